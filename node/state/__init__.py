"""Applies a block's txs to state (lot events and governance), deterministically.

`init_state` writes height 0 from genesis, `check_admission` guards the mempool and
`apply_block` judges and applies every tx of a block. All state goes through the
Overlay the caller passes in; the block store commits it with the block.
"""

from node.state.admission import AdmissionError, check_admission
from node.state.apply import apply_block
from node.state.governance import approval_message, approve
from node.state.init import init_state

__all__ = [
    "AdmissionError",
    "apply_block",
    "approval_message",
    "approve",
    "check_admission",
    "init_state",
]
