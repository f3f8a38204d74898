"""The state at height 0, written from the genesis document."""

from __future__ import annotations

from node.provenance.ledger import AdminSet, KeyRecord, Ledger, OrgRecord, SiteRecord
from node.provenance.licences import licence_from_body, put_licence
from node.provenance.royalties import put_schedule
from node.store.kv import Overlay
from node.types.genesis import Genesis


def init_state(view: Overlay, genesis: Genesis) -> None:
    """Write the genesis orgs, their keys, sites, network parameters, admin set, and the
    initial licences and royalty schedule (docs/assets.md)."""
    ledger = Ledger(view)
    for org in genesis.orgs:
        ledger.put_org(OrgRecord(id=org.id, name=org.name, roles=org.roles, active=True,
                                 added_height=0))
        for key in org.keys:
            ledger.put_signer(key, KeyRecord(org=org.id, active=True, added_height=0))
    for site in genesis.sites:
        ledger.put_site(SiteRecord(id=site.id, org=site.org, kind=site.kind, name=site.name,
                                   minerals=site.minerals, location=site.location,
                                   gln=site.gln, added_height=0))
    for name in sorted(genesis.params):
        ledger.put_param(name, genesis.params[name])
    ledger.put_admin(AdminSet(genesis.admin_threshold, genesis.admin_keys))
    for entry in genesis.licences:
        put_licence(ledger, licence_from_body(entry, entry["org"], 0))
    for mineral in sorted(genesis.royalties):
        put_schedule(ledger, mineral, genesis.royalties[mineral], 0)
