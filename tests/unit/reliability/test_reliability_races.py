# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two (or more) runs of the SAME Atlas project at once end with ONE Atlas role, and every run names it.

Each run lists the project's roles, sees no pending role and creates one; the emulator's ``delay`` fault holds every
POST so that all runs have listed before any role exists. The runs are separate spawned processes (as Ansible forks
or two pipelines would be); the emulator serves them from this pytest process.
"""

from __future__ import annotations

import multiprocessing
import typing as t

import pytest

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _access_roles as ar
from ansible_collections.atlas_ops.aws_access.plugins.module_utils._atlas_client import (
    AtlasClient,
    AtlasCredentials,
    AtlasSession,
)
from ansible_collections.atlas_ops.aws_access.tests.unit.contract_helpers import validate_log

POST_DELAY = 1.0  # seconds the emulator holds each create: long enough for every run to have listed first


def run_in_child(args: dict, start: t.Any, results: t.Any) -> None:
    """Run atlas_access_role in a fresh interpreter once every run is ready."""
    from ansible_collections.atlas_ops.aws_access.tests.unit.conftest import _run_module

    start.wait(timeout=60)
    try:
        result = _run_module("atlas_access_role", args)
    except BaseException as exc:  # the parent must hear about any failure, not wait forever
        result = {"failed": True, "msg": repr(exc)}
    results.put(result)


def connection(emu: t.Any, **extra: t.Any) -> dict:
    return dict({"api_public_key": emu.EMU_PUBLIC_KEY, "api_private_key": emu.EMU_PRIVATE_KEY, "base_url": emu.url,
                 "project_id": emu.project_id}, **extra)


def run_at_once(args: list[dict]) -> list[dict]:
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(len(args)), context.Queue()
    runs = [context.Process(target=run_in_child, args=(run_args, start, results)) for run_args in args]
    for run in runs:
        run.start()
    outcomes = [results.get(timeout=120) for _run in runs]
    for run in runs:
        run.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("runs", [2, 4])
def test_runs_of_the_same_project_at_once_end_with_one_role(atlas_emulator: t.Any, contract: t.Any, runs: int) -> None:
    atlas_emulator.add_fault("POST", "cloudProviderAccess$", "delay", count=runs, retry_after=POST_DELAY)
    outcomes = run_at_once([connection(atlas_emulator)] * runs)
    assert [outcome for outcome in outcomes if outcome.get("failed")] == []
    roles = atlas_emulator.roles(atlas_emulator.project_id)
    assert len(roles) == 1, roles
    assert {outcome["role"]["role_id"] for outcome in outcomes} == {roles[0]["roleId"]}
    log = atlas_emulator.requests
    creates = [entry for entry in log if entry["method"] == "POST" and entry["status"] == 200]
    deletes = [entry for entry in log if entry["method"] == "DELETE" and entry["status"] == 204]
    # The overlap really happened (every run created), and only the losers' own roles were removed.
    assert len(creates) == runs and len(deletes) == runs - 1
    created_ids = {entry["response_body"]["roleId"] for entry in creates}
    assert {entry["path"].rsplit("/", 1)[-1] for entry in deletes} == created_ids - {roles[0]["roleId"]}
    validate_log(contract, log)


# ---- the convergence rule, one case at a time (one session, the "other run" simulated by a direct create) --------

@pytest.fixture
def session(atlas_emulator: t.Any) -> t.Iterator[AtlasSession]:
    credentials = AtlasCredentials("api_key", atlas_emulator.EMU_PUBLIC_KEY, atlas_emulator.EMU_PRIVATE_KEY)
    with AtlasSession(AtlasClient(atlas_emulator.url, credentials), atlas_emulator.project_id, "api_key") as opened:
        yield opened


def backdate(emu: t.Any, role_id: str, created: str) -> None:
    """Make a role look older: Atlas dates are to the second, and a test should not wait for seconds to pass."""
    emu._project(emu.project_id)["roles"][role_id]["createdDate"] = created  # pylint: disable=protected-access


def two_new_roles(emu: t.Any, session: AtlasSession, ours_is_older: bool) -> tuple[dict, dict]:
    ours = ar.create_role(session, [])[0]
    other = ar.create_role(session, [])[0]
    backdate(emu, (ours if ours_is_older else other)["roleId"], "2000-01-01T00:00:00Z")
    return ours, other


def role_ids(emu: t.Any) -> set:
    return {role["roleId"] for role in emu.roles(emu.project_id)}


def test_a_run_whose_role_lost_deletes_it_and_carries_on_with_the_winner(atlas_emulator: t.Any, session: AtlasSession) -> None:
    ours, other = two_new_roles(atlas_emulator, session, ours_is_older=False)
    pauses: list = []
    chosen = ar.converge_created(session, ours, [], answered=True, sleep=pauses.append)
    assert chosen["roleId"] == other["roleId"]
    assert role_ids(atlas_emulator) == {other["roleId"]}
    assert pauses == [ar.CREATE_SETTLE_SECONDS]  # it confirmed the winner after the creation second had passed


def test_a_run_whose_role_won_keeps_it_and_leaves_the_other_to_its_owner(atlas_emulator: t.Any, session: AtlasSession) -> None:
    ours, other = two_new_roles(atlas_emulator, session, ours_is_older=True)
    chosen = ar.converge_created(session, ours, [], answered=True, sleep=lambda _s: None)
    assert chosen["roleId"] == ours["roleId"]
    assert role_ids(atlas_emulator) == {ours["roleId"], other["roleId"]}


def test_a_role_adopted_after_a_lost_answer_is_never_deleted(atlas_emulator: t.Any, session: AtlasSession) -> None:
    # Without an answer the run cannot know the role it adopted is its own: it may be another run's.
    ours, other = two_new_roles(atlas_emulator, session, ours_is_older=False)
    chosen = ar.converge_created(session, ours, [], answered=False, sleep=lambda _s: None)
    assert chosen["roleId"] == other["roleId"]
    assert role_ids(atlas_emulator) == {ours["roleId"], other["roleId"]}


def test_a_losing_role_that_is_in_use_is_never_deleted(atlas_emulator: t.Any, session: AtlasSession) -> None:
    ours, other = two_new_roles(atlas_emulator, session, ours_is_older=False)
    atlas_emulator.set_feature_usages(atlas_emulator.project_id, ours["roleId"], [{"featureType": "ENCRYPTION_AT_REST"}])
    ar.converge_created(session, ours, [], answered=True, sleep=lambda _s: None)
    assert role_ids(atlas_emulator) == {ours["roleId"], other["roleId"]}


def test_roles_that_existed_before_the_run_never_take_part(atlas_emulator: t.Any, session: AtlasSession) -> None:
    older = ar.create_role(session, [])[0]
    backdate(atlas_emulator, older["roleId"], "2000-01-01T00:00:00Z")
    ours = ar.create_role(session, [older["roleId"]])[0]
    chosen = ar.converge_created(session, ours, [older["roleId"]], answered=True, sleep=lambda _s: None)
    assert chosen["roleId"] == ours["roleId"]
    assert role_ids(atlas_emulator) == {older["roleId"], ours["roleId"]}
