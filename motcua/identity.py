"""Who owns a dossier: an identity (role and subject), never a bare ``sub``.

Intake records it when a dossier is submitted; intake and the gateway both check it
(the gateway to decide what a caller may see, intake before a supplement or a
withdrawal), so the rule lives here, once.
"""

from __future__ import annotations

from typing import Any


def ownership(actor: dict[str, Any], applicant: dict[str, Any]) -> dict[str, Any]:
    """Who owns a new dossier: the citizen who submits it; one an officer enters at the
    counter has no citizen account behind it and is linked by the applicant's số định
    danh cá nhân instead (the officer is kept as who entered it)."""
    fields = {"applicant_id_number": applicant.get("id_number"), "entered_by": None,
              "owner_role": None, "owner": None}
    if actor.get("role") == "citizen":
        fields.update(owner_role="citizen", owner=str(actor.get("sub") or ""))
    else:
        fields["entered_by"] = f"{actor.get('role')}:{actor.get('sub')}"
    return fields


def owned_by(owner_role: str | None, owner: str | None, applicant_id_number: str | None,
             actor: dict[str, Any]) -> bool:
    """Is ``actor`` the dossier's citizen? By identity (role and subject, never a bare
    ``sub``), or, for a dossier without an owner, by the token's ``id_number`` claim."""
    if actor.get("role") != "citizen":
        return False
    if owner_role is not None:
        return owner_role == "citizen" and owner == str(actor.get("sub"))
    return bool(applicant_id_number) and actor.get("id_number") == applicant_id_number
