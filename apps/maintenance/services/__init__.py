"""Every change of maintenance: windows (schedule, start early, extend, end early, cancel,
and the minute task that starts and ends them on time), log entries and work orders. Each
runs in a transaction, checks the state it expects under select_for_update, and writes an
audit entry with the values before and after and the reason.

One module per thing changed: ``windows``, ``log``, ``work_orders``; ``checks`` holds
what they all check. The services are re-exported here: ``services.window_schedule``.
"""

from .log import log_entry_add
from .windows import (
    window_cancel,
    window_end_early,
    window_extend,
    window_schedule,
    window_start_early,
    windows_due,
)
from .work_orders import (
    work_order_assign,
    work_order_create,
    work_order_from_action_item,
    work_order_set_state,
)

__all__ = [
    "log_entry_add",
    "window_cancel",
    "window_end_early",
    "window_extend",
    "window_schedule",
    "window_start_early",
    "windows_due",
    "work_order_assign",
    "work_order_create",
    "work_order_from_action_item",
    "work_order_set_state",
]
