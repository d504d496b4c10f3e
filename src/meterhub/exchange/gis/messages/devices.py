"""importMeteringDeviceData (house-management): apartment (ИПУ) and house (ОДПУ) meters.

A meter ГИС ЖКХ knows (MeteringDeviceVersionGUID imported) is not re-created; a new one is sent with its
number, model, installation and verification dates, whether it is read remotely, and its base values
(the first reading of each register): electricity as T1[/T2/T3] (``MunicipalResourceEnergy``), other
resources with their НСИ 2 resource (``MunicipalResourceNotEnergy``).
"""

from __future__ import annotations

from meterhub.exchange.gis.model import BuiltMessage, DeviceData, GuidFactory, Item, NsiRef
from meterhub.exchange.gis.xml import child, element, guid, nsi_ref

__all__ = ["MAX_DEVICES", "VERSION", "build_metering_devices", "metering_value"]

VERSION = "11.1.0.8"
MAX_DEVICES = 100  # importMeteringDeviceDataRequest: MeteringDevice maxOccurs


def metering_value(value) -> str:
    """A register value in MeteringValueType: at most 15 digits before and 7 after the point."""
    from decimal import Decimal

    return format(Decimal(value).quantize(Decimal("0.0000001")).normalize(), "f")


def build_metering_devices(
    devices: list[DeviceData], resources: dict[str, NsiRef], new_guid: GuidFactory
) -> BuiltMessage:
    """``importMeteringDeviceDataRequest`` for meters not yet in ГИС ЖКХ (those with a version GUID are
    reported as skipped: nothing to create)."""
    if len(devices) > MAX_DEVICES:
        raise ValueError(f"{len(devices)} meters in one message; at most {MAX_DEVICES}")
    body = element("hm:importMeteringDeviceDataRequest", **{"base:version": VERSION})
    built = BuiltMessage("importMeteringDeviceData", body)
    fias = {d.fias_guid for d in devices if d.fias_guid}
    if len(fias) == 1:
        child(body, "hm:FIASHouseGuid", guid(fias.pop()))
    for device in devices:
        if device.version_guid:
            built.skipped.append(f"meter {device.meter_id}: already in ГИС ЖКХ ({device.version_guid})")
            continue
        if device.house and not device.fias_guid:
            built.skipped.append(f"meter {device.meter_id}: building {device.building_id} has no ФИАС GUID")
            continue
        if not device.house and (not device.premises_guid or not device.account_guids):
            built.skipped.append(
                f"meter {device.meter_id}: premise {device.building_id}/{device.premise_no} needs its "
                f"PremisesGUID and account GUIDs from ГИС ЖКХ first (export houses and accounts)"
            )
            continue
        if device.service != "electricity" and device.service not in resources:
            built.skipped.append(f"meter {device.meter_id}: no НСИ 2 resource mapped for {device.service}")
            continue
        transport = new_guid()
        node = child(body, "hm:MeteringDevice")
        child(node, "base:TransportGUID", guid(transport))
        data = child(node, "hm:DeviceDataToCreate")
        basic = child(data, "hm:BasicChatacteristicts")
        child(basic, "hm:MeteringDeviceNumber", device.serial[:50])
        if device.model:
            child(basic, "hm:MeteringDeviceModel", device.model[:100])
        if device.installed_on:
            child(basic, "hm:InstallationDate", device.installed_on)
            child(basic, "hm:CommissioningDate", device.installed_on)
        child(basic, "hm:RemoteMeteringMode", device.remote)
        if device.remote:
            child(basic, "hm:RemoteMeteringInfo", "передача показаний через шлюз meterhub")
        child(basic, "hm:TemperatureSensor", False)
        child(basic, "hm:PressureSensor", False)
        if device.house:
            collective = child(basic, "hm:CollectiveDevice")
            child(collective, "hm:FIASHouseGuid", guid(device.fias_guid or ""))
        else:
            kind = "ResidentialPremiseDevice" if device.residential else "NonResidentialPremiseDevice"
            premise = child(basic, f"hm:{kind}")
            child(premise, "hm:PremiseGUID", guid(device.premises_guid or ""))
            for account_guid in device.account_guids:
                child(premise, "hm:AccountGUID", guid(account_guid))
        child(data, "hm:NotLinkedWithMetering", True)
        values = device.first_values or ()
        if device.service == "electricity":
            energy = child(data, "hm:MunicipalResourceEnergy")
            for index, value in enumerate(values[:3] or (0,), start=1):
                child(energy, f"metering-device-base:MeteringValueT{index}", metering_value(value))
            child(energy, "hm:Unit", "245")
        else:
            other = child(data, "hm:MunicipalResourceNotEnergy")
            ref = resources[device.service]
            nsi_ref(other, "metering-device-base:MunicipalResource", ref.code, ref.guid, ref.name)
            child(other, "metering-device-base:MeteringValue", metering_value(values[0] if values else 0))
        built.items.append(Item(transport, "device", device.meter_id))
    return built
