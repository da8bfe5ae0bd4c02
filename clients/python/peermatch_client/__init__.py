"""Python client for peermatch, the GNLC peer-city recommender.

    from peermatch_client import Client, to_dict

    with Client("127.0.0.1:50051", token="...") as client:
        for peer in client.match("pupils without internet during school closures", k=5).peers:
            print(peer.rank, peer.city.name, [e.title for e in peer.evidence])

The generated stubs (peermatch.v1.*_pb2) are part of the installed wheel
(`make python-package`); from a source checkout they come from the CMake
build, see load_stubs(). README.md lists every method.
"""

# The package's version: the one place it is set (pyproject.toml reads it).
__version__ = "0.1.0"

from ._stubs import load_stubs
from .client import DEFAULT_SERVER, Client, PeermatchError, to_dict

__all__ = ["Client", "PeermatchError", "to_dict", "load_stubs", "DEFAULT_SERVER", "__version__"]
