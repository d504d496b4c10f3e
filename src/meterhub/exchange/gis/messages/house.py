"""importHouseUOData (house-management): a house managed by the УК and its premises.

A house is in ГИС ЖКХ before the УК exports anything (it is loaded from ФИАС/ГАР with the licence register),
so the message updates the house found by its ФИАС/ГАР GUID (``ApartmentHouseToUpdate``) and creates the
premises ГИС ЖКХ does not know yet (no PremisesGUID) or updates those it returned.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from meterhub.exchange.gis.model import BuiltMessage, GuidFactory, HouseData, MissingIdentifier, PremiseData
from meterhub.exchange.gis.xml import child, element, guid

__all__ = ["VERSION", "build_house_uo"]

VERSION = "13.1.9.2"  # not fixed by the schema: the house-management schema version of 14.4.0.1


_AREA = Decimal("0.01")


def _premise(node: etree._Element, premise: PremiseData) -> None:
    """What every premise starts with: no cadastral number (meterhub holds none) and its number."""
    child(node, "hm:NoCadastralNumber", True)
    child(node, "hm:PremisesNum", premise.premise_no)


def _premise_ids(
    built: BuiltMessage, node: etree._Element, house: HouseData, premise: PremiseData, new_guid: GuidFactory
) -> None:
    built.add_transport_guid(node, "premise", f"{house.building_id}/{premise.premise_no}", new_guid)
    if premise.premises_guid:
        child(node, "hm:PremisesGUID", guid(premise.premises_guid))


def build_house_uo(house: HouseData, new_guid: GuidFactory) -> BuiltMessage:
    """``importHouseUORequest`` of one apartment building (МКД) with its residential and other premises."""
    if not house.fias_guid:
        raise MissingIdentifier(
            f"building {house.building_id} ({house.address}): no ФИАС/ГАР house GUID; import it with "
            f"`meterhub gis import-ids` (a houses sheet: building, fias_house_guid)"
        )
    body = element("hm:importHouseUORequest", **{"base:version": VERSION})
    built = BuiltMessage("importHouseUOData", body)
    apartment_house = child(body, "hm:ApartmentHouse")
    update = child(apartment_house, "hm:ApartmentHouseToUpdate")
    basic = child(update, "hm:BasicCharacteristicts")
    child(basic, "hm:NoCadastralNumber", True)
    child(basic, "hm:FIASHouseGuid", guid(house.fias_guid))
    child(basic, "hm:TotalSquare", house.total_area.quantize(_AREA))
    built.add_transport_guid(update, "house", house.building_id, new_guid)
    non_residential = [p for p in house.premises if not p.residential]
    residential = [p for p in house.premises if p.residential]
    for premise in non_residential:
        update_it = premise.premises_guid is not None
        node = child(apartment_house, f"hm:NonResidentialPremiseTo{'Update' if update_it else 'Create'}")
        _premise(node, premise)
        child(node, "hm:TotalArea", premise.area.quantize(_AREA))
        child(node, "hm:IsCommonProperty", False)
        _premise_ids(built, node, house, premise, new_guid)
    for premise in residential:
        wrapper = child(apartment_house, "hm:ResidentialPremises")
        update_it = premise.premises_guid is not None
        node = child(wrapper, f"hm:ResidentialPremisesTo{'Update' if update_it else 'Create'}")
        _premise(node, premise)
        if premise.entrance is not None:
            child(node, "hm:EntranceNum", str(premise.entrance))
        else:
            child(node, "hm:HasNoEntrance", True)
        child(node, "hm:TotalArea", premise.area.quantize(_AREA))
        child(node, "hm:NoGrossArea", True)
        _premise_ids(built, node, house, premise, new_guid)
    return built
