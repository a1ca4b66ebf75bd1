"""The package's association network (workbench.packages.content.package_network) reads only the subject's persons
and the incidents they were mentioned at, and is the same network as linkage.network.build_network, which reads
the whole store and filters afterwards: the reference is computed here, unfiltered, on the quick linkage world
(tests/test_packages_build.quick_db), for every group crossing two or more forces and for a set of persons."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.test_packages_build import quick_db  # noqa: F401 - the shared session world (fixture)
from workbench.errors import WorkbenchError
from workbench.linkage.network import build_network
from workbench.packages.content import package_network
from workbench.store import open_store


@pytest.fixture(scope="module")
def store(quick_db):  # noqa: F811
    with open_store(quick_db, read_only=True) as held:
        yield held


def _same(a, b):
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.edges, b.edges)


def test_group_network_same_as_the_unfiltered_build(store):
    from workbench import crossborder

    groups = list(crossborder.several_forces(store).group_id)[:4]
    assert groups
    for group in groups:
        reference = build_network(store, group_id=group)
        assert set(reference.nodes.kind) == {"person", "vehicle", "incident", "store"}, group
        _same(reference, package_network(store, group_id=group))


def test_persons_network_same_as_the_unfiltered_build(store):
    persons = store.sql("SELECT l.person_id FROM person_links l JOIN person_mentions m USING (mention_id) "
                        "JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current "
                        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 6").person_id.tolist()
    _same(build_network(store, person_ids=persons), package_network(store, person_ids=persons))
    assert len(package_network(store, person_ids=[]).nodes) == 0


def test_same_errors_as_the_unfiltered_build(store):
    for kwargs, needle in (({"group_id": "GR99999"}, "no active group 'GR99999'"),
                           ({"person_ids": ["RP9999999"]}, "no resolved person 'RP9999999'")):
        with pytest.raises(WorkbenchError, match=needle):
            build_network(store, **kwargs)
        with pytest.raises(WorkbenchError, match=needle):
            package_network(store, **kwargs)


def test_package_never_runs_the_whole_store_network_queries(store, monkeypatch):
    from workbench import crossborder, packages

    ran = []
    query = type(store).query

    def recording(self, name, **params):
        ran.append(name)
        return query(self, name, **params)
    monkeypatch.setattr(type(store), "query", recording)
    group = crossborder.several_forces(store).group_id.iloc[0]
    pkg = packages.compute(store, group)
    assert "packages/network_incidents" in ran and len(pkg.network.nodes)
    assert not {"linkage/network_incidents", "linkage/network_persons", "linkage/network_vehicles",
                "linkage/network_incident_tactics", "linkage/network_stores"} & set(ran)
