"""Who and where: GLNs and orechain URNs resolved to the sites and orgs of a genesis.

orechain records GLNs on sites only (genesis `sites[].gln`), so a party GLN (PGLN) names
the org of the site that carries that GLN. Sites and orgs without a GLN are named by
`urn:orechain:site:<id>` and `urn:orechain:org:<id>`.
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
from node.types.genesis import Genesis


@dataclass(frozen=True)
class Directory:
    site_by_gln: dict[str, str]
    gln_by_site: dict[str, str]
    org_by_site: dict[str, str]
    orgs: frozenset[str]

    @classmethod
    def from_genesis(cls, genesis: Genesis) -> Directory:
        with_gln = [s for s in genesis.sites if s.gln]
        return cls(site_by_gln={s.gln: s.id for s in with_gln},
                   gln_by_site={s.id: s.gln for s in with_gln},
                   org_by_site={s.id: s.org for s in genesis.sites},
                   orgs=frozenset(o.id for o in genesis.orgs))

    def site(self, uri: str) -> str:
        """The site id a location URI names; IdentifierError if none does."""
        if uri.startswith(SITE_URN):
            site_id = uri[len(SITE_URN):]
            if site_id not in self.org_by_site:
                raise IdentifierError(f"{uri}: no site {site_id!r} in genesis")
            return site_id
        gln = gln_from_uri(uri)
        if gln not in self.site_by_gln:
            raise IdentifierError(f"{uri}: GLN {gln} is not the GLN of any site in genesis")
        return self.site_by_gln[gln]

    def org(self, uri: str) -> str:
        """The org a party URI names: an orechain org URN, or the org of a GLN's site."""
        if uri.startswith(ORG_URN):
            org_id = uri[len(ORG_URN):]
            if org_id not in self.orgs:
                raise IdentifierError(f"{uri}: no org {org_id!r} in genesis")
            return org_id
        return self.org_by_site[self.site(uri)]

    def site_uri(self, site_id: str) -> str:
        gln = self.gln_by_site.get(site_id)
        return gln_uri(gln) if gln else SITE_URN + site_id


def org_uri(org_id: str) -> str:
    return ORG_URN + org_id
