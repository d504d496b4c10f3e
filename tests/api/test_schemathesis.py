"""Property-based fuzzing of the whole OpenAPI schema with schemathesis: no input may cause a server error.

Every operation of /api/v1/openapi.json (including routers other modules add) gets generated requests,
valid ones (positive mode) and invalid ones (negative mode), bounded by hypothesis' ``max_examples``, once
as an admin and once as a resident. Each case gets a fresh bearer token, so a generated logout or password
change does not blind the cases after it. The check is schemathesis' "not a server error": no 5xx.

Cases are sent with the test's own TestClient (``Case.as_transport_kwargs``): schemathesis' bundled
transport fails with the installed urllib3 ('TrafficPolice' object has no attribute 'keys') and its
pytest plugin does not load under pytest 9.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from meterhub.api.sessions import issue_bearer  # noqa: E402
from tests.api.world import World  # noqa: E402

pytestmark = [pytest.mark.db, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
_DROP = ("timeout", "verify", "allow_redirects", "stream", "cert", "proxies")


def _fresh_token(world: World, who: str) -> dict[str, str]:
    from meterhub.timeseries.database import connect

    with connect(world.url, autocommit=True) as conn:
        token = issue_bearer(conn, world.users[who], timedelta(hours=1), "schemathesis").token
    return {"Authorization": f"Bearer {token}"}


def _fuzz(client, world: World, who: str) -> tuple[list[str], int, int]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    failures: list[str] = []
    operations = calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode, examples in EXAMPLES.items():

            @settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case) -> None:
                nonlocal calls
                kwargs = case.as_transport_kwargs(
                    base_url="http://testserver", headers=_fresh_token(world, who)
                )
                for key in _DROP:
                    kwargs.pop(key, None)
                response = client.request(**kwargs, follow_redirects=False)
                calls += 1
                assert response.status_code < 500, (
                    f"{kwargs['method']} {kwargs['url']} params={kwargs.get('params')} → "
                    f"{response.status_code} {response.text[:500]}"
                )

            try:
                run()
            except Unsatisfiable:
                # an operation without parameters or body (GET /health) has no invalid input to make
                if mode is not GenerationMode.NEGATIVE:
                    failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): no input")
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}"[:3000])
    return failures, operations, calls


def test_no_input_causes_a_server_error(client, world: World) -> None:
    # The resident first: the admin's cases change and delete users (the resident among them).
    for who in ("alice", "clerk", "root"):  # clerk: the passport office (its routes refuse the others)
        failures, operations, calls = _fuzz(client, world, who)
        assert operations >= 30 and calls >= 5 * operations, (who, operations, calls)
        assert not failures, f"as {who}:\n" + "\n\n".join(failures)
