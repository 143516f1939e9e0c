"""How the offline plan drives Pulumi's mock engine: the garbage collector's pace while a plan runs."""

import gc

import pulumi

from appcdn.commands.plan.mock_engine import YOUNG_COLLECTION_THRESHOLD, fewer_collections, run_program


def test_a_plan_collects_garbage_less_often_and_leaves_the_collector_as_it_found_it() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
        assert gc.get_freeze_count() > 0  # what existed on entry is out of the collector's sight
        with fewer_collections():  # the plan command around run_program, which uses it too
            pass
        assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_while_a_plan_runs_are_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    with fewer_collections():
        for _ in range(3 * YOUNG_COLLECTION_THRESHOLD):  # each Node is a cycle the collector alone can free
            Node()
        assert sum(type(o) is Node for o in gc.get_objects()) < 2 * YOUNG_COLLECTION_THRESHOLD


def test_run_program_leaves_the_collector_as_it_found_it() -> None:
    before = gc.get_threshold()
    planned = run_program(lambda: pulumi.export("answer", 42), "appcdn", "unit", {}, [])
    assert planned.outputs == {"answer": 42}
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
