"""Who and where: GLNs and orechain URNs resolved to registered sites and orgs.

orechain records GLNs on sites only (genesis `sites[].gln`, or the `gln` of a
`gov_add_site`), so a party GLN (PGLN) names the org of the site that carries that
GLN. Sites and orgs without a GLN are named by `urn:orechain:site:<id>` and
`urn:orechain:org:<id>`. A node resolves against its current state, which holds the
genesis sites and every site added since; without a chain at hand (mapping offline),
against the genesis alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.epcis.identifiers import (
    ORG_URN,
    SITE_URN,
    IdentifierError,
    gln_from_uri,
    gln_uri,
)
from node.provenance.ledger import LedgerView
from node.types.genesis import Genesis


@dataclass(frozen=True)
class Directory:
    site_by_gln: dict[str, str]
    gln_by_site: dict[str, str]
    org_by_site: dict[str, str]
    orgs: frozenset[str]

    @classmethod
    def from_genesis(cls, genesis: Genesis) -> Directory:
        return cls._of([(s.id, s.org, s.gln) for s in genesis.sites],
                       [o.id for o in genesis.orgs])

    @classmethod
    def from_state(cls, view: LedgerView) -> Directory:
        """The sites and orgs registered on chain as of `view`."""
        return cls._of([(s.id, s.org, s.gln) for s in view.sites()],
                       [o.id for o in view.orgs()])

    @classmethod
    def _of(cls, sites: list[tuple[str, str, str]], orgs: list[str]) -> Directory:
        """From (site id, org id, GLN or "") of every site and the ids of every org."""
        return cls(site_by_gln={gln: site for site, _, gln in sites if gln},
                   gln_by_site={site: gln for site, _, gln in sites if gln},
                   org_by_site={site: org for site, org, _ in sites},
                   orgs=frozenset(orgs))

    def site(self, uri: str) -> str:
        """The site id a location URI names; IdentifierError if none does."""
        if uri.startswith(SITE_URN):
            site_id = uri[len(SITE_URN):]
            if site_id not in self.org_by_site:
                raise IdentifierError(f"{uri}: no site {site_id!r} is registered")
            return site_id
        gln = gln_from_uri(uri)
        if gln not in self.site_by_gln:
            raise IdentifierError(f"{uri}: GLN {gln} is not the GLN of any registered site")
        return self.site_by_gln[gln]

    def org(self, uri: str) -> str:
        """The org a party URI names: an orechain org URN, or the org of a GLN's site."""
        if uri.startswith(ORG_URN):
            org_id = uri[len(ORG_URN):]
            if org_id not in self.orgs:
                raise IdentifierError(f"{uri}: no org {org_id!r} is registered")
            return org_id
        return self.org_by_site[self.site(uri)]

    def site_uri(self, site_id: str) -> str:
        gln = self.gln_by_site.get(site_id)
        return gln_uri(gln) if gln else SITE_URN + site_id


def org_uri(org_id: str) -> str:
    return ORG_URN + org_id
