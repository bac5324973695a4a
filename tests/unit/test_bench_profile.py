"""Reading py-spy's raw (collapsed-stack) profiles: own time is the leaf frame's samples."""

from __future__ import annotations

from bench.profile import frame_name, own_time, top

RAW = """\
<module> (uvicorn/main.py:1);run (asyncio/runners.py:190) 50
<module> (uvicorn/main.py:1);run (asyncio/runners.py:190);handle (/app/.venv/lib/python3.11/site-packages/starlette/routing.py:700);submit (intake_service/dossiers/service.py:40) 30
<module> (uvicorn/main.py:1);run (asyncio/runners.py:190);submit (intake_service/dossiers/service.py:40);_do_execute (/v/lib/python3.11/site-packages/asyncpg/connection.py:1800) 15
<module> (uvicorn/main.py:1);submit (intake_service/dossiers/service.py:52) 5

garbage line without a count
"""


def test_own_time_counts_leaf_frames_and_merges_a_function_over_its_lines() -> None:
    counts = own_time(RAW)
    assert counts == {
        "run (asyncio/runners.py)": 50,
        "submit (intake_service/dossiers/service.py)": 35,
        "_do_execute (asyncpg/connection.py)": 15,
    }


def test_top_orders_by_samples_with_their_share() -> None:
    ranked = top(own_time(RAW), 2)
    assert ranked == [
        ("run (asyncio/runners.py)", 50, 0.5),
        ("submit (intake_service/dossiers/service.py)", 35, 0.35),
    ]
    assert top(own_time(""), 5) == []


def test_a_frame_keeps_its_name_and_file_from_site_packages_on() -> None:
    assert (
        frame_name("verify (/x/lib/python3.11/site-packages/jwt/algorithms.py:300)")
        == "verify (jwt/algorithms.py)"
    )
    assert frame_name("<lambda> (bench/run.py:12)") == "<lambda> (bench/run.py)"
    assert frame_name("odd frame") == "odd frame"
