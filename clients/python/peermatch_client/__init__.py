"""Python client for peermatch, the GNLC peer-city recommender.

    from peermatch_client import Client, to_dict

    with Client("127.0.0.1:50051", token="...") as client:
        for peer in client.match("pupils without internet during school closures", k=5).peers:
            print(peer.rank, peer.city.name, [e.title for e in peer.evidence])

The generated stubs (peermatch.v1.*_pb2) come from the CMake build; see
load_stubs() for where they are looked for. README.md lists every method.
"""

from ._stubs import load_stubs
from .client import DEFAULT_SERVER, Client, PeermatchError, to_dict

__all__ = ["Client", "PeermatchError", "to_dict", "load_stubs", "DEFAULT_SERVER"]
