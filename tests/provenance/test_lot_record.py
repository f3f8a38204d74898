"""The lot record's fast paths agree with the general ones: `Lot.encoded` is the
canonical encoding of the record, byte for byte, and `Lot.evolve` is `replace`."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node import codec
from node.provenance.lot import Lot

BASE = Lot(lot_id="PK-CU-2026-0001", mineral="copper", form="ore", mass_g=25_000_000,
           holder="mine-1", site_id="mine-1-pit-a", status="active", created_height=3,
           created_ms=1_795_200_000_000, updated_height=3)

small = st.dictionaries(st.sampled_from(["Cu", "Au", "Sb", "Nd", "Ag"]),
                        st.integers(1, 1_000_000), max_size=4)
notes = st.dictionaries(st.sampled_from(["by", "reason", "height", "to_org"]),
                        st.one_of(st.integers(0, 10**12), st.text(max_size=12)), max_size=3)


@given(composition=small, recovery=small, parents=st.lists(st.text(min_size=1, max_size=8),
       max_size=3), flags=st.lists(notes, max_size=2), hold=st.one_of(st.none(), notes),
       site=st.one_of(st.none(), st.just("refinery-1-qasim")))
def test_encoded_is_the_canonical_encoding_of_the_record(composition, recovery, parents,
                                                          flags, hold, site):
    lot = dataclasses.replace(BASE, composition=composition, recovery_ppm=recovery,
                              parents=tuple(parents), flags=tuple(flags), hold=hold,
                              site_id=site)
    assert lot.encoded() == codec.encode(lot.to_record())
    assert Lot.from_record(codec.decode(lot.encoded())) == lot


def test_encoded_refuses_a_float_as_the_generic_encoder_does():
    lot = dataclasses.replace(BASE, transit={"mass_g": 1.5})
    with pytest.raises(codec.CodecError, match="floats"):
        lot.encoded()


def test_evolve_matches_replace_and_refuses_unknown_fields():
    changed = BASE.evolve(mass_g=24_000_000, status="in_transit", site_id=None)
    assert changed == dataclasses.replace(BASE, mass_g=24_000_000, status="in_transit",
                                          site_id=None)
    assert BASE.mass_g == 25_000_000  # the original is untouched
    with pytest.raises(TypeError):
        BASE.evolve(weight_g=1)
