"""importHouseUOData (house-management): a house managed by the УК and its premises.

A house is in ГИС ЖКХ before the УК exports anything (it is loaded from ФИАС/ГАР with the licence register),
so the message updates the house found by its ФИАС/ГАР GUID (``ApartmentHouseToUpdate``) and creates the
premises ГИС ЖКХ does not know yet (no PremisesGUID) or updates those it returned.
"""

from __future__ import annotations

from decimal import Decimal

from meterhub.exchange.gis.model import BuiltMessage, GuidFactory, HouseData, Item, MissingIdentifier
from meterhub.exchange.gis.xml import child, element, guid

__all__ = ["VERSION", "build_house_uo"]

VERSION = "13.1.9.2"  # not fixed by the schema: the house-management schema version of 14.4.0.1


def _no_cadastral_number(parent) -> None:
    child(parent, "hm:NoCadastralNumber", True)


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
    _no_cadastral_number(basic)
    child(basic, "hm:FIASHouseGuid", guid(house.fias_guid))
    child(basic, "hm:TotalSquare", house.total_area.quantize(_AREA))
    transport = new_guid()
    child(update, "base:TransportGUID", guid(transport))
    built.items.append(Item(transport, "house", house.building_id))
    for premise in house.premises:
        if premise.residential:
            continue
        transport = new_guid()
        name = (
            "hm:NonResidentialPremiseToUpdate"
            if premise.premises_guid
            else "hm:NonResidentialPremiseToCreate"
        )
        node = child(apartment_house, name)
        _no_cadastral_number(node)
        child(node, "hm:PremisesNum", premise.premise_no)
        child(node, "hm:TotalArea", premise.area.quantize(_AREA))
        child(node, "hm:IsCommonProperty", False)
        child(node, "base:TransportGUID", guid(transport))
        if premise.premises_guid:
            child(node, "hm:PremisesGUID", guid(premise.premises_guid))
        built.items.append(Item(transport, "premise", f"{house.building_id}/{premise.premise_no}"))
    for premise in house.premises:
        if not premise.residential:
            continue
        transport = new_guid()
        wrapper = child(apartment_house, "hm:ResidentialPremises")
        if premise.premises_guid:
            node = child(wrapper, "hm:ResidentialPremisesToUpdate")
        else:
            node = child(wrapper, "hm:ResidentialPremisesToCreate")
        _no_cadastral_number(node)
        child(node, "hm:PremisesNum", premise.premise_no)
        if premise.entrance is not None:
            child(node, "hm:EntranceNum", str(premise.entrance))
        else:
            child(node, "hm:HasNoEntrance", True)
        child(node, "hm:TotalArea", premise.area.quantize(_AREA))
        child(node, "hm:NoGrossArea", True)
        child(node, "base:TransportGUID", guid(transport))
        if premise.premises_guid:
            child(node, "hm:PremisesGUID", guid(premise.premises_guid))
        built.items.append(Item(transport, "premise", f"{house.building_id}/{premise.premise_no}"))
    return built


_AREA = Decimal("0.01")
