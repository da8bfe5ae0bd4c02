"""The peermatch client: a thin, Pythonic wrapper over the generated gRPC stub."""

import collections.abc
import json
import os
import re

import grpc
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from ._stubs import load_stubs

DEFAULT_SERVER = "127.0.0.1:50051"

_HEALTH_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


class PeermatchError(Exception):
    """A failed call: `code` is the canonical status code name, e.g. "NOT_FOUND".

    `message` is the server's message (it names the offending field for
    INVALID_ARGUMENT); the underlying grpc.RpcError is `rpc_error` (and
    `__cause__`).
    """

    def __init__(self, code, message, rpc_error=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.rpc_error = rpc_error

    @classmethod
    def from_rpc_error(cls, error):
        code = error.code() if hasattr(error, "code") else None
        details = error.details() if hasattr(error, "details") else None
        name = code.name if code is not None else "UNKNOWN"
        return cls(name, details or "", error)


def to_dict(message, **kwargs):
    """The message as a dict in protobuf's JSON form (json_format.MessageToDict).

    Keyword arguments are passed on, e.g. preserving_proto_field_name=True.
    """
    return json_format.MessageToDict(message, **kwargs)


# --- conversions -------------------------------------------------------------


def _upper_snake(camel):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).upper()


def _enum_number(enum_desc, value, field):
    """An enum value given as a number, full name ("THEME_WORKPLACE") or short
    name ("workplace", "learning-technologies"), as its number."""
    if isinstance(value, bool):
        raise TypeError("%s: expected a %s, got %r" % (field, enum_desc.name, value))
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value in enum_desc.values_by_name:
            return enum_desc.values_by_name[value].number
        short = re.sub(r"[\s-]+", "_", value.strip()).upper()
        full = _upper_snake(enum_desc.name) + "_" + short
        if full in enum_desc.values_by_name:
            return enum_desc.values_by_name[full].number
    names = [v.name for v in enum_desc.values if v.number != 0]
    raise ValueError("%s: unknown %s %r (one of %s)" % (field, enum_desc.name, value, ", ".join(names)))


def _normalize(data, descriptor, path):
    """A copy of `data` (protobuf JSON form) with enum short names expanded."""
    if not isinstance(data, collections.abc.Mapping):
        raise TypeError("%s: expected a dict or %s, got %r" % (path or descriptor.name, descriptor.name, data))
    fields = {}
    for f in descriptor.fields:
        fields[f.name] = f
        fields[f.json_name] = f
    out = {}
    for key, value in data.items():
        f = fields.get(key)
        where = "%s.%s" % (path, key) if path else key
        if f is None or value is None:
            out[key] = value  # json_format reports unknown fields
            continue

        def convert(v, where=where, f=f):
            if f.type == FieldDescriptor.TYPE_ENUM:
                number = _enum_number(f.enum_type, v, where)
                known = f.enum_type.values_by_number.get(number)
                return known.name if known is not None else number
            if f.type == FieldDescriptor.TYPE_MESSAGE and not isinstance(v, Message):
                return _normalize(v, f.message_type, where)
            return v

        if f.label == FieldDescriptor.LABEL_REPEATED and not isinstance(value, (str, bytes)):
            out[key] = [convert(v, "%s[%d]" % (where, i)) for i, v in enumerate(value)]
        else:
            out[key] = convert(value)
    return out


def _coerce(value, cls, field):
    """`value` as a `cls` message: the message itself, or parsed from a dict in
    protobuf JSON form (enum short names allowed)."""
    if isinstance(value, cls):
        return value
    if isinstance(value, Message):
        raise TypeError("%s: expected %s, got %s" % (field, cls.DESCRIPTOR.full_name,
                                                     value.DESCRIPTOR.full_name))
    if isinstance(value, collections.abc.Mapping):
        try:
            return json_format.ParseDict(_normalize(value, cls.DESCRIPTOR, field), cls())
        except json_format.ParseError as e:
            raise ValueError("%s: %s" % (field, e)) from e
    raise TypeError("%s: expected a dict or %s, got %r" % (field, cls.DESCRIPTOR.name, value))


def _without_nulls(record):
    """A dict record without its None values (they mean "clear" in a mask)."""
    if isinstance(record, collections.abc.Mapping):
        return {k: v for k, v in record.items() if v is not None}
    return record


def _mask_paths(record, update_mask):
    """The paths of an update: `update_mask` (a path, a comma-separated
    string or a list), else a dict record's keys but "id"."""
    if update_mask is None:
        if isinstance(record, collections.abc.Mapping):
            return [k for k in record if k != "id"]
        return []
    if isinstance(update_mask, str):
        update_mask = update_mask.split(",")
    return [p.strip() for p in update_mask]


# --- the client --------------------------------------------------------------


class Client:
    """A connection to a peermatch server.

    Client(server=None, token=None, timeout=10.0, stubs_path=None, credentials=None)

    - server: "HOST:PORT"; default $PEERMATCH_SERVER, else "127.0.0.1:50051".
    - token: bearer token sent as `authorization: Bearer TOKEN` on every call;
      default $PEERMATCH_TOKEN. Pass "" to send no token even when the
      variable is set.
    - timeout: deadline of every call in seconds; each method also takes
      `timeout=` to override it for one call.
    - stubs_path: directory holding the generated peermatch/v1/*_pb2.py, when
      they are not importable already (see load_stubs).
    - credentials: grpc.ChannelCredentials for a TLS server (default plaintext).

    Failed calls raise PeermatchError. Use as a context manager, or call
    close(), to close the channel.
    """

    def __init__(self, server=None, token=None, timeout=10.0, stubs_path=None, credentials=None):
        stubs = load_stubs(stubs_path)
        self.model_pb2 = stubs.model_pb2
        self.peermatch_pb2 = stubs.peermatch_pb2
        self.server = server or os.environ.get("PEERMATCH_SERVER") or DEFAULT_SERVER
        if token is None:
            token = os.environ.get("PEERMATCH_TOKEN", "")
        self.timeout = timeout
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        if credentials is not None:
            self._channel = grpc.secure_channel(self.server, credentials)
        else:
            self._channel = grpc.insecure_channel(self.server)
        self._stub = stubs.peermatch_pb2_grpc.PeermatchStub(self._channel)

    # -- plumbing --

    def close(self):
        """Closes the channel; the client cannot be used afterwards."""
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return "Client(server=%r)" % self.server

    def _call(self, method, request, timeout):
        try:
            return method(request, timeout=self.timeout if timeout is None else timeout,
                          metadata=self._metadata)
        except grpc.RpcError as e:
            raise PeermatchError.from_rpc_error(e) from e

    def _enum(self, enum_type, value, field):
        return _enum_number(enum_type.DESCRIPTOR, value, field)

    def _enums(self, enum_type, values, field):
        if isinstance(values, (str, int)):
            values = [values]
        return [self._enum(enum_type, v, "%s[%d]" % (field, i)) for i, v in enumerate(values)]

    # -- cities --

    def put_city(self, city, timeout=None):
        """Creates or replaces a city (City or dict); True when the stored city changed."""
        req = self.peermatch_pb2.PutCityRequest(city=_coerce(city, self.model_pb2.City, "city"))
        return self._call(self._stub.PutCity, req, timeout).changed

    def get_city(self, id, timeout=None):
        """The City with this id; PeermatchError NOT_FOUND if there is none."""
        return self._call(self._stub.GetCity, self.peermatch_pb2.GetCityRequest(id=id), timeout)

    def list_cities(self, region=None, page_size=100, timeout=None):
        """Iterates over all cities in id order (optionally of one region, e.g.
        "asia_pacific"), fetching `page_size` per call. Lazy: calls happen as
        you iterate."""
        req = self.peermatch_pb2.ListCitiesRequest(page_size=page_size)
        if region is not None:
            req.region = self._enum(self.model_pb2.Region, region, "region")
        return self._pages(self._stub.ListCities, req, "cities", timeout)

    def update_city(self, city, update_mask=None, timeout=None):
        """Changes some fields of a stored city and returns it as stored (UpdateCity).

        `city` is a City or a dict in protobuf JSON form whose "id" names the
        city. `update_mask` lists the fields to change ("population" or
        ["name", "joined_year"]; JSON or proto names; "*" for all): a named
        field takes the value in `city`, empty or 0 to clear it. Without a
        mask, a dict's keys other than "id" are the mask (so {"id": ...,
        "population": None} clears the population); a City message changes
        the fields it sets. Raises PeermatchError INVALID_ARGUMENT for an
        unknown path, NOT_FOUND for an unknown id.
        """
        req = self.peermatch_pb2.UpdateCityRequest()
        req.city.CopyFrom(_coerce(_without_nulls(city), self.model_pb2.City, "city"))
        req.update_mask.paths.extend(_mask_paths(city, update_mask))
        return self._call(self._stub.UpdateCity, req, timeout)

    def delete_city(self, id, cascade=False, timeout=None):
        """Deletes a city; with cascade=True also its cases. Returns the number of
        cases deleted. FAILED_PRECONDITION while it has cases and not cascade."""
        req = self.peermatch_pb2.DeleteCityRequest(id=id, cascade=cascade)
        return self._call(self._stub.DeleteCity, req, timeout).deleted_cases

    # -- cases --

    def put_case(self, case, timeout=None):
        """Creates or replaces a case (Case or dict); True when the stored case changed."""
        req = self.peermatch_pb2.PutCaseRequest()
        getattr(req, "case").CopyFrom(_coerce(case, self.model_pb2.Case, "case"))
        return self._call(self._stub.PutCase, req, timeout).changed

    def get_case(self, id, timeout=None):
        """The Case with this id; PeermatchError NOT_FOUND if there is none."""
        return self._call(self._stub.GetCase, self.peermatch_pb2.GetCaseRequest(id=id), timeout)

    def list_cases(self, city_id=None, kind=None, theme=None, page_size=100, timeout=None):
        """Iterates over all cases in id order, optionally only those of a city,
        of a kind ("challenge"/"solution") or with a theme. Lazy like list_cities."""
        req = self.peermatch_pb2.ListCasesRequest(page_size=page_size)
        if city_id is not None:
            req.city_id = city_id
        if kind is not None:
            req.kind = self._enum(self.model_pb2.CaseKind, kind, "kind")
        if theme is not None:
            req.theme = self._enum(self.model_pb2.Theme, theme, "theme")
        return self._pages(self._stub.ListCases, req, "cases", timeout)

    def update_case(self, case, update_mask=None, timeout=None):
        """Changes some fields of a stored case and returns it as stored
        (UpdateCase); `case` and `update_mask` as in update_city."""
        req = self.peermatch_pb2.UpdateCaseRequest()
        getattr(req, "case").CopyFrom(
            _coerce(_without_nulls(case), self.model_pb2.Case, "case"))
        req.update_mask.paths.extend(_mask_paths(case, update_mask))
        return self._call(self._stub.UpdateCase, req, timeout)

    def delete_case(self, id, timeout=None):
        """Deletes a case with its vectors and index entries."""
        self._call(self._stub.DeleteCase, self.peermatch_pb2.DeleteCaseRequest(id=id), timeout)

    def _pages(self, method, req, field, timeout):
        while True:
            resp = self._call(method, req, timeout)
            yield from getattr(resp, field)
            if not resp.next_page_token:
                return
            req.page_token = resp.next_page_token

    # -- import --

    def import_records(self, records, timeout=None):
        """Streams cities and cases in; returns the ImportSummary.

        `records` is a path to a JSONL file (one ImportRecord in protobuf JSON
        per line, blank lines skipped), or an iterable of City, Case,
        ImportRecord or dicts in ImportRecord JSON form ({"city": {...}} or
        {"case": {...}}). Every record is converted before anything is sent,
        so a malformed one raises ValueError and nothing is written. Records
        the server rejects are reported in summary.errors; for a file their
        `index` is the 0-based line number.
        """
        lines = None
        if isinstance(records, (str, bytes, os.PathLike)):
            messages, lines = self._read_jsonl(records)
        else:
            messages = [self._import_record(r, "records[%d]" % i) for i, r in enumerate(records)]
        try:
            summary = self._stub.ImportRecords(
                iter(messages), timeout=self.timeout if timeout is None else timeout,
                metadata=self._metadata)
        except grpc.RpcError as e:
            raise PeermatchError.from_rpc_error(e) from e
        if lines is not None:
            for error in summary.errors:
                if 0 <= error.index < len(lines):
                    error.index = lines[error.index]
        return summary

    def _import_record(self, record, where):
        m = self.model_pb2
        if isinstance(record, m.ImportRecord):
            return record
        if isinstance(record, m.City):
            return m.ImportRecord(city=record)
        if isinstance(record, m.Case):
            return m.ImportRecord(**{"case": record})
        return _coerce(record, m.ImportRecord, where)

    def _read_jsonl(self, path):
        messages, lines = [], []
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f):
                if not line.strip():
                    continue
                where = "%s:%d" % (os.fsdecode(path), number + 1)
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError("%s: not JSON: %s" % (where, e)) from e
                messages.append(self._import_record(data, where))
                lines.append(number)
        return messages, lines

    # -- matching --

    def _query(self, req, text, case_id, filters, themes, sdgs, target_groups, language,
               page_token):
        if text is not None and case_id is not None:
            raise ValueError("give text or case_id, not both")
        if text is not None:
            req.text = text
        if case_id is not None:
            req.case_id = case_id
        if filters is not None:
            req.filters.CopyFrom(_coerce(filters, self.peermatch_pb2.Filters, "filters"))
        if themes is not None:
            req.themes.extend(self._enums(self.model_pb2.Theme, themes, "themes"))
        if sdgs is not None:
            req.sdgs.extend([sdgs] if isinstance(sdgs, int) else sdgs)
        if target_groups is not None:
            req.target_groups.extend([target_groups] if isinstance(target_groups, str)
                                     else target_groups)
        if language is not None:
            req.language = language
        if page_token is not None:
            req.page_token = page_token

    def match(self, text=None, case_id=None, k=10, filters=None, themes=None, sdgs=None,
              target_groups=None, asking_city_id=None, max_per_country=None,
              evidence_per_city=None, page_token=None, language=None, min_score=None,
              timeout=None):
        """Peer cities for a challenge, given as `text` or a stored `case_id`.

        Returns a MatchResponse: `peers` (one PeerMatch per city, with `evidence`
        and each evidence's `shared_terms`), and `next_page_token` for the next
        k cities. `filters` is a Filters or a dict such as
        {"regions": ["africa"], "exclude_countries": ["FR"]}; `themes`, `sdgs`
        and `target_groups` describe a text challenge; `asking_city_id` is never
        returned as its own peer; `max_per_country` limits cities per country;
        `min_score` hides solutions scoring below it (results without
        evidence are never shown); an empty answer says why in `empty_reason`.
        """
        req = self.peermatch_pb2.MatchRequest(k=k)
        self._query(req, text, case_id, filters, themes, sdgs, target_groups, language,
                    page_token)
        if asking_city_id is not None:
            req.asking_city_id = asking_city_id
        if max_per_country is not None:
            req.max_per_country = max_per_country
        if evidence_per_city is not None:
            req.evidence_per_city = evidence_per_city
        if min_score is not None:
            req.min_score.value = min_score
        return self._call(self._stub.Match, req, timeout)

    def similar(self, text=None, case_id=None, k=10, filters=None, themes=None, sdgs=None,
                target_groups=None, page_token=None, language=None, kind=None, min_score=None,
                timeout=None):
        """Cases most like a text or a stored case: a SimilarCasesResponse whose
        `cases` are CaseMatch (use getattr(m, "case"): `case` is a keyword).
        `kind` ("challenge"/"solution") is a shortcut for filters.kind."""
        req = self.peermatch_pb2.SimilarCasesRequest(k=k)
        self._query(req, text, case_id, filters, themes, sdgs, target_groups, language,
                    page_token)
        if kind is not None:
            req.filters.kind = self._enum(self.model_pb2.CaseKind, kind, "kind")
        if min_score is not None:
            req.min_score.value = min_score
        return self._call(self._stub.SimilarCases, req, timeout)

    def pair(self, k=3, capacity=3, exclude_same_country=False, min_score=None, avoid=(),
             keep=(), city_ids=(), regions=(), themes=(), mutual=False, score_only=False,
             candidates_per_city=None, progress=None, timeout=None):
        """Batch pairing of cities for peer learning (PairCities).

        Returns (pairs, summary): a list of Pair (asking_city_id, peer_city_id,
        score, challenge_id, solution_id, parts, shared_terms, ...) and the
        PairingSummary (totals; each `unmatched` city, with no peer, and each
        of `fewer_peers`, with fewer than k, with the server's reason).
        `avoid` and `keep` are (asking_city_id, peer_city_id) tuples; `progress`,
        when given, is called with each PairingProgress. No deadline unless
        `timeout` is given: a large cohort can take a while.
        """
        req = self._pair_request(k, capacity, exclude_same_country, min_score, avoid, keep,
                                 city_ids, regions, themes, mutual, score_only,
                                 candidates_per_city)
        pairs, summary = [], None
        try:
            for item in self._stub.PairCities(req, timeout=timeout, metadata=self._metadata):
                which = item.WhichOneof("item")
                if which == "pair":
                    pairs.append(item.pair)
                elif which == "summary":
                    summary = item.summary
                elif which == "progress" and progress is not None:
                    progress(item.progress)
        except grpc.RpcError as e:
            raise PeermatchError.from_rpc_error(e) from e
        return pairs, summary

    def _pair_request(self, k=3, capacity=3, exclude_same_country=False, min_score=None,
                      avoid=(), keep=(), city_ids=(), regions=(), themes=(), mutual=False,
                      score_only=False, candidates_per_city=None):
        req = self.peermatch_pb2.PairCitiesRequest(
            k=k, capacity=capacity, exclude_same_country=exclude_same_country,
            mutual=mutual, score_only=score_only)
        if min_score is not None:
            req.min_score = min_score
        if candidates_per_city is not None:
            req.candidates_per_city = candidates_per_city
        req.city_ids.extend(city_ids)
        req.regions.extend(self._enums(self.model_pb2.Region, list(regions), "regions"))
        req.themes.extend(self._enums(self.model_pb2.Theme, list(themes), "themes"))
        for field, pairs in (("avoid", avoid), ("keep", keep)):
            for asking, peer in pairs:
                getattr(req, field).add(asking_city_id=asking, peer_city_id=peer)
        return req

    # -- pairing rounds --

    def create_round(self, name, avoid_round_ids=(), avoid_declined_only=False, timeout=None,
                     **options):
        """Solves a pairing and stores it as a new round, every pair proposed (CreateRound).

        `options` are pair()'s keywords (k, capacity, exclude_same_country,
        min_score, avoid, keep, city_ids, regions, themes, mutual, score_only,
        candidates_per_city). `avoid_round_ids` lists earlier rounds whose
        pairs the new one does not propose (with avoid_declined_only=True,
        only their declined pairs). Returns the Round; its id is made from
        the name ("2027 cohort" -> "2027-cohort"). Needs a write token. The
        solve runs on the server's heavy-work pool; give a larger `timeout`
        for a large cohort.
        """
        req = self.peermatch_pb2.CreateRoundRequest(
            name=name, avoid_declined_only=avoid_declined_only)
        req.options.CopyFrom(self._pair_request(**options))
        req.avoid_round_ids.extend(avoid_round_ids)
        return self._call(self._stub.CreateRound, req, timeout)

    def get_round(self, round_id, timeout=None):
        """The Round with every pair (RoundPair: pair, state, reason, comment,
        decided_at); PeermatchError NOT_FOUND when there is none."""
        return self._call(self._stub.GetRound,
                          self.peermatch_pb2.GetRoundRequest(round_id=round_id), timeout)

    def list_rounds(self, page_size=100, timeout=None):
        """Iterates over every round in id order, without their pairs (lazy)."""
        req = self.peermatch_pb2.ListRoundsRequest(page_size=page_size)
        return self._pages(self._stub.ListRounds, req, "rounds", timeout)

    def accept_pair(self, round_id, asking_city_id, peer_city_id, comment=None, timeout=None):
        """Records that a pair of a round was accepted (DecideRoundPair);
        returns the DecideRoundPairResponse (`changed` is False when it already
        was). NOT_FOUND for an unknown round or a pair not in it,
        FAILED_PRECONDITION for a closed round."""
        return self._decide(round_id, asking_city_id, peer_city_id,
                            self.peermatch_pb2.PAIR_STATE_ACCEPTED, None, comment, timeout)

    def decline_pair(self, round_id, asking_city_id, peer_city_id, reason=None, comment=None,
                     timeout=None):
        """Records that a pair was declined, with an optional `reason`
        ("not-relevant", "no-capacity", "already-partners", "language",
        "other", or a DeclineReason) and `comment`; as accept_pair otherwise."""
        return self._decide(round_id, asking_city_id, peer_city_id,
                            self.peermatch_pb2.PAIR_STATE_DECLINED, reason, comment, timeout)

    def _decide(self, round_id, asking, peer, decision, reason, comment, timeout):
        req = self.peermatch_pb2.DecideRoundPairRequest(
            round_id=round_id, asking_city_id=asking, peer_city_id=peer, decision=decision)
        if reason is not None:
            req.reason = self._enum(self.peermatch_pb2.DeclineReason, reason, "reason")
        if comment is not None:
            req.comment = comment
        return self._call(self._stub.DecideRoundPair, req, timeout)

    def rematch_round(self, round_id, timeout=None):
        """Re-solves a round for the places declines freed (RematchRound):
        accepted and proposed pairs are kept, declined ones never proposed
        again. Returns the RematchRoundResponse (`round`, the `added` pairs,
        `fewer_peers`)."""
        return self._call(self._stub.RematchRound,
                          self.peermatch_pb2.RematchRoundRequest(round_id=round_id),
                          timeout)

    def close_round(self, round_id, timeout=None):
        """Closes a round (no more decisions or rematches); returns the Round."""
        return self._call(self._stub.CloseRound,
                          self.peermatch_pb2.CloseRoundRequest(round_id=round_id), timeout)

    # -- service --

    def stats(self, timeout=None):
        """Counts of cities and cases, the model version, the index size and the
        fusion in use (`fusion`: learned or default weights, and why) (Stats)."""
        return self._call(self._stub.GetStats, self.peermatch_pb2.GetStatsRequest(), timeout)

    def record_feedback(self, solution_case_id, useful, query_case_id=None, query_text=None,
                        city_id=None, timeout=None):
        """Feedback on a Match result (RecordFeedback; write token): the solution
        `solution_case_id` was (`useful=True`) or was not useful evidence for the
        challenge, given as the stored `query_case_id` or the `query_text` Match
        was asked with. Returns the RecordFeedbackResponse (the judgement as
        stored and the fusion in use after it)."""
        req = self.peermatch_pb2.RecordFeedbackRequest(
            solution_case_id=solution_case_id, useful=bool(useful))
        if query_case_id is not None:
            req.query_case_id = query_case_id
        if query_text is not None:
            req.query_text = query_text
        if city_id is not None:
            req.city_id = city_id
        return self._call(self._stub.RecordFeedback, req, timeout)

    def health(self, service="", timeout=None):
        """The standard gRPC health check: "SERVING" when the server is up."""
        check = self._channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=_encode_health_request,
            response_deserializer=_decode_health_response)
        return self._call(check, service, timeout)


# grpc.health.v1 is not generated for Python (a generated `grpc` package would
# shadow grpcio), and both messages are a single field: encode them by hand.


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _encode_health_request(service):
    data = service.encode("utf-8")
    return b"\x0a" + _varint(len(data)) + data if data else b""


def _read_varint(data, pos):
    result, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _decode_health_response(data):
    status, pos = 0, 0
    while pos < len(data):
        tag, pos = _read_varint(data, pos)
        wire = tag & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
            if tag >> 3 == 1:
                status = value
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            break
    return _HEALTH_NAMES.get(status, str(status))
