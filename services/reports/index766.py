"""The Decision 766/QĐ-TTg index (100 points), from the read model and the catalogue.

DOMAIN.md gives the groups and their points (transparency 18, progress 20, online service
12, online payment 10, satisfaction 18, digitisation 22), the thresholds, and the rule:
an indicator with a threshold scores full points at or above it, otherwise
``rate × max ÷ threshold``; one without a threshold scores ``rate × max`` (2 decimals,
half-up). DOMAIN.md does not say how a group's points divide among its indicators:
motcua divides them evenly, and says so on each indicator.

What motcua does not record (transparency's publication checks, the reuse of digitised
data) is reported as not computed, with the reason, and scores nothing: never invented;
likewise an indicator whose inputs no dossier of the period recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.reports.domain import INDEX_COUNTS, Period, assemble, rate

NOT_RECORDED = "motcua does not record this yet"


def points(rate_percent: float | None, maximum: float, threshold: float | None) -> float:
    if rate_percent is None:
        return 0.0
    value = (Decimal(str(maximum)) if threshold is not None and rate_percent >= threshold
             else Decimal(str(rate_percent)) * Decimal(str(maximum))
             / Decimal(str(threshold if threshold is not None else 100)))
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def indicator(key: str, name: str, maximum: float, data: dict[str, Any] | None,
              threshold: float | None = None, note: str = "") -> dict[str, Any]:
    """One indicator: its data (a rate with numerator and denominator), threshold and
    points; ``data`` None: not computed (``note`` says why)."""
    computed = data is not None
    return {"key": key, "name": name, "max": maximum, "threshold": threshold,
            "computed": computed, "data": data,
            "points": points(data["percent"], maximum, threshold) if computed else None,
            "note": note}


def group(key: str, name: str, maximum: float,
          indicators: list[dict[str, Any]]) -> dict[str, Any]:
    computed = [i for i in indicators if i["computed"]]
    return {"key": key, "name": name, "max": maximum, "indicators": indicators,
            "points": round(sum(i["points"] for i in computed), 2) if computed else None}


def of_groups(groups: Iterable[tuple[Mapping[str, str], Mapping[str, int]]], period: Period,
              catalogue: Mapping[str, int]) -> dict[str, Any]:
    """The index from the period's counts per breakdown values (``counts.groups``)."""
    groups = list(groups)
    total = assemble(groups, period, by=()) | {
        key: sum(group[key] for _, group in groups) for key in INDEX_COUNTS}
    return index(total, catalogue)


def index(counts: Mapping[str, int], catalogue: Mapping[str, int]) -> dict[str, Any]:
    """The six groups. ``counts`` are the period's (``domain.COUNTS`` and
    ``domain.INDEX_COUNTS``), ``catalogue`` the agency's procedures: ``procedures``,
    ``online`` (offered online, fully or partly), ``fee_bearing`` (with a fee) and
    ``fee_online`` (with a fee, offered online: motcua's VietQR takes every fee it asks
    of an online dossier)."""
    judged = counts["resolved"] + counts["in_progress"]
    on_time = counts["resolved_early"] + counts["resolved_on_time"] \
        + counts["in_progress_not_due"]
    progress = rate(on_time, judged) if judged else None  # nothing to judge: not scored
    late = counts["resolved_late"] + counts["in_progress_overdue"]
    satisfaction = None
    if judged:  # DOMAIN.md: 100% − overdue % − % with a complaint or "not satisfied"
        unhappy = min(judged, late + counts["dissatisfied"])
        satisfaction = rate(judged - unhappy, judged)
    half = "DOMAIN.md does not split the group's points: motcua gives each indicator half."
    groups = [
        group("transparency", "Công khai, minh bạch", 18, [
            indicator("publication", "Công khai thủ tục, tiến độ, kết quả", 18, None,
                      note=NOT_RECORDED + " (the publication checks of the portal).")]),
        group("progress", "Tiến độ giải quyết", 20, [
            indicator("on_time", "Hồ sơ giải quyết đúng hạn", 20, progress, note=(
                "Resolved in the period, and in progress judged at its end: on time if "
                "finished by the original appointment (moved only by supplement waiting; "
                "an extension is late), with at most one supplement request."))]),
        group("online_service", "Dịch vụ công trực tuyến", 12, [
            indicator("procedures_online", "Thủ tục cung cấp trực tuyến", 6,
                      rate(catalogue["online"], catalogue["procedures"])
                      if catalogue["procedures"] else None, 80, half),
            indicator("dossiers_online", "Hồ sơ nộp trực tuyến", 6,
                      rate(counts["received_online"], counts["received"])
                      if counts["received"] else None, 50, half)]),
        group("online_payment", "Thanh toán trực tuyến", 10, [
            indicator("fees_payable_online", "Thủ tục có phí thanh toán trực tuyến", 10,
                      rate(catalogue["fee_online"], catalogue["fee_bearing"])
                      if catalogue["fee_bearing"] else None, 80,
                      "Procedures with a fee (an amount or a rule) that are offered "
                      "online, over procedures with a fee: motcua's VietQR takes every "
                      "fee it asks of an online dossier.")]),
        group("satisfaction", "Mức độ hài lòng", 18, [
            indicator("satisfaction", "Mức độ hài lòng", 18, satisfaction, 90, (
                "100% − the overdue share − the share of dossiers with a complaint or a "
                "\"not satisfied\" rating in the period (each dossier counted once)."))]),
        group("digitisation", "Số hóa hồ sơ", 22, [
            indicator("digitised", "Hồ sơ được số hóa", 11,
                      rate(counts["digitised"], counts["digitisation_known"])
                      if counts["digitisation_known"] else None, 80,
                      half + " Received dossiers whose required papers were all "
                      "electronic documents at acceptance (online, or scanned at the "
                      "desk), over those received for which motcua recorded it (not "
                      "imported ones)."),
            indicator("reused", "Tái sử dụng dữ liệu số hóa", 11, None, 80,
                      half + " " + NOT_RECORDED + " (which submissions reused data "
                      "digitised before)."),
            indicator("results_electronic", "Kết quả giải quyết điện tử", 0,
                      rate(counts["results_electronic"], counts["results_known"])
                      if counts["results_known"] else None, None,
                      "Shown, not scored (DOMAIN.md scores two indicators here): resolved "
                      "dossiers whose result was issued as a document, over those "
                      "resolved for which motcua recorded it.")]),
    ]
    computed_max = sum(i["max"] for g in groups for i in g["indicators"] if i["computed"])
    total = sum(g["points"] or 0 for g in groups)
    return {"points": round(total, 2), "max": 100, "computed_max": computed_max,
            "groups": groups}
