"""importMeteringDeviceValues (device-metering): the readings of a period, apartment and house meters.

One current value per meter — the last reading at or before the period's end (the value the close and
the ЕПД use) — dated by the day it was taken; electricity sends T1[/T2/T3] (``ElectricDeviceValue``),
other resources one value with the НСИ 2 resource (``OneRateDeviceValue``).
"""

from __future__ import annotations

from meterhub.exchange.gis.messages.devices import metering_value, unmapped_resource
from meterhub.exchange.gis.model import BuiltMessage, GuidFactory, NsiRef, ReadingData, new_message
from meterhub.exchange.gis.xml import child, guid, nsi_ref

__all__ = ["MAX_VALUES", "VERSION", "build_meter_values"]

VERSION = "10.0.1.1"
MAX_VALUES = 1000  # MeteringDevicesValues maxOccurs


def build_meter_values(
    readings: list[ReadingData], resources: dict[str, NsiRef], new_guid: GuidFactory
) -> BuiltMessage:
    """``importMeteringDeviceValuesRequest``; meters without a ГИС ЖКХ GUID are skipped with the reason."""
    built = new_message(
        "importMeteringDeviceValues",
        "dm:importMeteringDeviceValuesRequest",
        VERSION,
        len(readings),
        MAX_VALUES,
        "meters",
    )
    body = built.body
    for reading in readings:
        if not (reading.root_guid or reading.version_guid):
            built.skipped.append(
                f"meter {reading.meter_id}: not in ГИС ЖКХ yet (export devices and import the response)"
            )
            continue
        if unmapped := unmapped_resource(reading.meter_id, reading.service, resources):
            built.skipped.append(unmapped)
            continue
        node = child(body, "dm:MeteringDevicesValues")
        if reading.root_guid:
            child(node, "dm:MeteringDeviceRootGUID", guid(reading.root_guid))
        else:
            child(node, "dm:MeteringDeviceVersionGUID", guid(reading.version_guid or ""))
        if reading.service == "electricity":
            device = child(node, "dm:ElectricDeviceValue")
            current = child(device, "dm:CurrentValue")
            for index, value in enumerate(reading.values[:3], start=1):
                child(current, f"metering-device-base:MeteringValueT{index}", metering_value(value))
        else:
            device = child(node, "dm:OneRateDeviceValue")
            current = child(device, "dm:CurrentValue")
            ref = resources[reading.service]
            nsi_ref(current, "metering-device-base:MunicipalResource", ref.code, ref.guid, ref.name)
            child(current, "metering-device-base:MeteringValue", metering_value(reading.values[0]))
        child(current, "dm:DateValue", reading.taken_on)
        built.add_transport_guid(current, "reading", reading.meter_id, new_guid)
    return built
