"""Contract fuzzing: schemathesis over every operation of openapi/openapi.json, in process (WSGI).

Each operation runs as the callers who can get past its authorisation, so the
fuzzer reaches validation and the use cases instead of stopping at 401/404:

- ``/villages/{org_id}/...``: the village cashier (and the village's admin, clerk,
  approver, and a resident on its roll), with ``org_id`` fixed to the demo village;
- ``/merchants/{org_id}/...``: the merchant cashier and admin, on the demo merchant;
- ``/departments/{org_id}/...`` and ``/orgs/{org_id}/...``: the department officer
  and admin, on the demo department; ``/enterprises/{org_id}/...``: the officer and
  the enterprise admin, on the demo enterprise;
- ``/hospitals/{org_id}/...``: the clinician, billing clerk and admin of the demo hospital;
- everything else: the resident 张三 (with points, records, commitments) and the platform admin.

Which of them sends a given example is derived from the example's data, so
hypothesis replays and shrinks deterministically. All default checks run (no
5xx, response schema, documented status codes, content types, headers...).

A second test walks create -> read flows as a state machine over the links
schemathesis infers from the document.

Budget: FUZZ_EXAMPLES examples per operation in the fuzzing phase (default 8,
`make fuzz` 200), FUZZ_STATEFUL scenarios (default FUZZ_EXAMPLES/2, at least 5),
deadline off, fixed seed (FUZZ_SEED=random for new examples). FUZZ_COVERAGE=1 adds
schemathesis' coverage phase (boundary values, unsupported methods); FUZZ_PATHS=regex
fuzzes a part; FUZZ_LOG=file writes one line per request (and server errors) there.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from backend.config import PROJECT_ROOT
from tests.contract.conftest import reseed_world

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
FUZZ_SEED = os.environ.get("FUZZ_SEED", "20261123")

# The positive-data check: schema-valid input must not be refused, except for answers
# the schema cannot express. 409 (state conflicts: already used, duplicate), 410
# (expired codes) and 422 with a domain code (weak_password, insufficient_points,
# not_eligible, invalid_cursor...) are business rules over stored state, so they are
# accepted here; a 422 ``validation_failed`` is the schema layer itself refusing
# schema-valid input, i.e. the OpenAPI document and the service disagree, and the
# check below fails it.
config = schemathesis.Config.from_dict({
    "checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410", "422", "429"],
    }},
    # Unknown query parameters are ignored by design (webargs' default for query strings: caches
    # and proxies add their own); unknown JSON fields are refused, and that is still fuzzed.
    "generation": {"allow-extra-parameters": False},
    "phases": {"coverage": {"enabled": os.environ.get("FUZZ_COVERAGE", "0") == "1"}},
    # CI replays the same examples (a fixed seed); `make fuzz` draws new ones (FUZZ_SEED=random).
    **({} if FUZZ_SEED == "random" else {"seed": int(FUZZ_SEED)}),
})
schema = schemathesis.openapi.from_path(PROJECT_ROOT / "openapi" / "openapi.json", config=config)
if os.environ.get("FUZZ_PATHS"):  # e.g. FUZZ_PATHS='^/api/v1/villages/' to fuzz a part only
    schema = schema.include(path_regex=os.environ["FUZZ_PATHS"])

# path segment after /api/v1 -> (demo org key, callers by demo phone)
RESIDENT, ADMIN = "13800000001", "13800000000"
CALLERS: dict[str, tuple[str | None, list[str]]] = {
    "villages": ("village", ["13800000013", "13800000010", "13800000011", "13800000012", RESIDENT]),
    "merchants": ("merchant", ["13800000031", "13800000030"]),
    "departments": ("department", ["13800000051", "13800000050"]),
    "orgs": ("department", ["13800000051", "13800000050"]),
    "enterprises": ("enterprise", ["13800000051", "13800000060"]),
    "hospitals": ("hospital", ["13800000041", "13800000042", "13800000040"]),
}
DEFAULT_CALLERS: tuple[str | None, list[str]] = (None, [RESIDENT, ADMIN])


@schemathesis.check
def schema_valid_input_passes_validation(ctx: Any, response: Any, case: Any) -> bool | None:
    """A schema-valid request must not fail the request schema (422 validation_failed)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        code = response.json().get("code")
    except Exception:
        return None
    if code == "validation_failed":
        raise AssertionError(f"schema-valid input refused by validation: {response.text}")
    return None


def caller_for(case: Any, world: Any) -> dict[str, str]:
    """Pick the caller (and fix ``org_id``) for this example, deterministically."""
    segments = case.operation.path.split("/")
    prefix = segments[3] if len(segments) > 3 and segments[1] == "api" else ""
    org_key, phones = CALLERS.get(prefix, DEFAULT_CALLERS) if "org_id" in (case.path_parameters or {}) \
        else DEFAULT_CALLERS
    if org_key is not None:
        case.path_parameters["org_id"] = world.orgs[org_key]
    seed = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
    return world.headers[phones[seed % len(phones)]]


def headers_for(case: Any, world: Any) -> dict[str, str]:
    """The example's own headers with the caller's token (a mutated Authorization only tests 401 again)."""
    for name in [k for k in (case.headers or {}) if k.lower() == "authorization"]:
        del case.headers[name]  # (in place: the checks read the case to tell whose credentials were sent)
    return {**(case.headers or {}), **caller_for(case, world)}


_WORLD: dict[str, Any] = {}  # the module's demo world, for the auth provider below


@schemathesis.auth(refresh_interval=None)
class CallerAuth:
    """Every example carries the token of the caller chosen for it; as an auth provider, so the
    ``ignored_auth`` check knows these credentials are real and probes without and with bad ones."""

    def get(self, case: Any, ctx: Any) -> Any:
        return _WORLD.get("world")

    def set(self, case: Any, world: Any, ctx: Any) -> None:
        case.headers = headers_for(case, world)


@pytest.fixture
def fuzz_app(app, world):
    _WORLD["world"] = world
    schema.app = app  # the probes of some checks re-send through the schema's transport
    return app


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_contract(case, fuzz_app):
    case.operation.schema.app = fuzz_app
    case.call_and_validate(app=fuzz_app)


# Create -> read flows: schemathesis infers OpenAPI links from the document (a POST's ``id`` feeds
# the ``{award_id}``/``{offer_id}``... of the reads and actions on it) and walks them as a state
# machine, with the same callers and checks as above.
FLOWS = (r"^/api/v1/(villages/\{org_id\}/(awards|store-items|rules)|merchants/\{org_id\}/(offers|redemptions)"
         r"|hospitals/\{org_id\}/(visits|bills)|departments/\{org_id\}/(commitment-templates|objections|repairs)"
         r"|commitments|me/credit/(objections|repairs|reports)|enterprises/claims)")
FUZZ_STATEFUL = int(os.environ.get("FUZZ_STATEFUL", str(max(5, FUZZ_EXAMPLES // 2))))


def test_create_then_read_flows_honour_the_contract(fuzz_app, world, reference_rows):
    machine = schema.include(path_regex=FLOWS).as_state_machine()

    class Flows(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            case.operation.schema.app = fuzz_app
            return {"app": fuzz_app}

        def teardown(self) -> None:
            # Which rule runs next depends on the answers so far (a link needs a 201 to follow), and
            # hypothesis requires a scenario's choices to depend on its own draws only: a scenario that
            # met what an earlier one had created (e.g. a taken code: 409, an empty bundle) made it raise
            # FlakyStrategyDefinition once the budget grew (`make fuzz`). Each scenario starts afresh.
            reseed_world(fuzz_app, reference_rows, world)

    Flows.run(settings=settings(max_examples=FUZZ_STATEFUL, stateful_step_count=8, deadline=None,
                                suppress_health_check=list(HealthCheck)))


if os.environ.get("FUZZ_LOG"):
    @schemathesis.hook
    def after_call(context, case, response):
        try:
            code = response.json().get("code") if response.status_code >= 400 else ""
        except Exception:
            code = "?"
        mode = case.meta.generation.mode.value if case.meta else "-"
        with open(os.environ["FUZZ_LOG"], "a") as fh:
            fh.write(f"{case.method} {case.operation.path} {mode} {response.status_code} {code}\n")

    import logging

    _handler = logging.FileHandler(os.environ["FUZZ_LOG"] + ".errors")
    _handler.setLevel(logging.ERROR)
    logging.getLogger("backend.errors").addHandler(_handler)
