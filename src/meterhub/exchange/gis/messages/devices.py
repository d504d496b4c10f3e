"""importMeteringDeviceData (house-management): apartment (ИПУ) and house (ОДПУ) meters.

A meter ГИС ЖКХ knows (MeteringDeviceVersionGUID imported) is not re-created; a new one is sent with its
number, model, installation and verification dates, whether it is read remotely, and its base values
(the first reading of each register): electricity as T1[/T2/T3] (``MunicipalResourceEnergy``), other
resources with their НСИ 2 resource (``MunicipalResourceNotEnergy``).
"""

from __future__ import annotations

from meterhub.exchange.gis.model import BuiltMessage, DeviceData, GuidFactory, NsiRef, new_message
from meterhub.exchange.gis.xml import child, guid, nsi_ref

__all__ = ["MAX_DEVICES", "VERSION", "build_metering_devices", "metering_value", "unmapped_resource"]

VERSION = "11.1.0.8"
MAX_DEVICES = 100  # importMeteringDeviceDataRequest: MeteringDevice maxOccurs


def metering_value(value) -> str:
    """A register value in MeteringValueType: at most 15 digits before and 7 after the point."""
    from decimal import Decimal

    return format(Decimal(value).quantize(Decimal("0.0000001")).normalize(), "f")


def unmapped_resource(meter_id: str, service: str, resources: dict[str, NsiRef]) -> str | None:
    """Why a meter of ``service`` cannot be sent: no НСИ 2 resource mapped (electricity needs none)."""
    if service == "electricity" or service in resources:
        return None
    return f"meter {meter_id}: no НСИ 2 resource mapped for {service} (meterhub gis nsi)"


def build_metering_devices(
    devices: list[DeviceData], resources: dict[str, NsiRef], new_guid: GuidFactory
) -> BuiltMessage:
    """``importMeteringDeviceDataRequest`` for meters not yet in ГИС ЖКХ (those with a version GUID are
    reported as skipped: nothing to create)."""
    built = new_message(
        "importMeteringDeviceData",
        "hm:importMeteringDeviceDataRequest",
        VERSION,
        len(devices),
        MAX_DEVICES,
        "meters",
    )
    body = built.body
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
        if unmapped := unmapped_resource(device.meter_id, device.service, resources):
            built.skipped.append(unmapped)
            continue
        node = child(body, "hm:MeteringDevice")
        built.add_transport_guid(node, "device", device.meter_id, new_guid)
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
    return built
