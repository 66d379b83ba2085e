"""The province's time zone (DESIGN.md rule 8: store UTC, show Asia/Ho_Chi_Minh).

Its own module so that pure modules (the calendar, the forms, the domain rules) can
import it without loading the database layer.
"""

from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
