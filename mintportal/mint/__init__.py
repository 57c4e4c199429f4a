"""The Mint client package: the only code of the portal that speaks HTTP to Mint.

    from mintportal.mint import get_client, errors, models
    journey = get_client().get_journey(journey_id)

``get_client()`` returns the process-wide ``MintClient`` for the current MINT_* settings; ``errors``
holds the ``MintError`` tree and ``models`` the pydantic wire models (snake_case attributes).
"""

from mintportal.mint import errors, models
from mintportal.mint.client import AccessCheck, MintClient, get_client
from mintportal.mint.config import MintConfig

__all__ = ["AccessCheck", "MintClient", "MintConfig", "errors", "get_client", "models"]
