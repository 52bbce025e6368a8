import pytest

from edge.archive import Archive, ArchiveError, MeterRecord

GOOD = """
[defaults]
baud = 2400
prepaid = "remote"

[[port]]
name = "rs485-1"
url = "/dev/ttyS1"

[[port]]
name = "plc"
url = "/dev/ttyS2"
medium = "hplc"
baud = 9600

[[meter]]
addr = "000000000001"
port = "rs485-1"
customer = "C-0001"

[[meter]]
addr = "000000000002"
port = "plc"
protocol = "645-1997"
tariff = "ladder"
prepaid = "local"
"""


def test_load_applies_defaults_and_indexes(tmp_path):
    path = tmp_path / "archive.toml"
    path.write_text(GOOD)
    a = Archive.load(path)
    assert len(a) == 2 and set(a.ports) == {"rs485-1", "plc"}
    m1 = a.meters["000000000001"]
    assert (m1.baud, m1.prepaid, m1.protocol, m1.customer) == (2400, "remote", "645-2007", "C-0001")
    assert m1.wire_addr == bytes([1, 0, 0, 0, 0, 0])
    assert [m.addr for m in a.on_port("plc")] == ["000000000002"]
    assert a.ports["plc"].medium == "hplc"


def test_every_problem_is_reported_with_its_place():
    doc = {"port": [{"name": "p", "url": "/dev/x", "parity": "Q"}, {"name": "p", "url": ""}],
           "meter": [{"addr": "12345", "port": "p"}, {"addr": "000000000001", "port": "nope",
                                                     "protocol": "698", "baud": 1234},
                     {"addr": "000000000001", "port": "p"}],
           "colour": {}}
    with pytest.raises(ArchiveError) as e:
        Archive.from_dict(doc)
    places = {p for p, _ in e.value.problems}
    assert {"colour", "port[0].parity", "port[1].url", "port", "meter[0].addr", "meter[1].port",
            "meter[1].protocol", "meter[1].baud", "meter"} <= places
    assert "duplicate address 000000000001" in str(e.value)


def test_bad_toml_is_an_archive_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[[meter]\naddr = ")
    with pytest.raises(ArchiveError, match="not TOML"):
        Archive.load(path)


def test_master_station_changes_are_validated_and_all_or_nothing(tmp_path):
    a = Archive.from_dict({"port": [{"name": "p", "url": "loop://"}],
                           "meter": [{"addr": "000000000001", "port": "p"}]})
    b = a.with_changes(add=[{"addr": "000000000009", "port": "p", "baud": 9600}],
                       remove=["000000000001"])
    assert list(b.meters) == ["000000000009"] and b.meters["000000000009"].baud == 9600
    with pytest.raises(ArchiveError):
        a.with_changes(add=[{"addr": "00000000000X", "port": "p"}])
    assert list(a.meters) == ["000000000001"]
    assert isinstance(a.meters["000000000001"], MeterRecord)


def test_each_duplicate_is_reported_once_in_order_and_a_record_keeps_its_wire_address():
    ports = [{"name": n, "url": "/dev/x%d" % i} for i, n in enumerate("bab" "cab")]
    meters = [{"addr": "%012d" % (i % 7), "port": "a", "point": i % 5 + 1} for i in range(12)]
    with pytest.raises(ArchiveError) as e:
        Archive.from_dict({"port": ports, "meter": meters})
    told = [d for _, d in e.value.problems]
    assert told == (["duplicate port name 'a'", "duplicate port name 'b'"]
                    + ["duplicate address %012d" % i for i in range(5)]
                    + ["duplicate point %d" % p for p in range(1, 6)])
    m = MeterRecord("000000123456", "a")
    assert m.wire_addr == bytes([0x56, 0x34, 0x12, 0, 0, 0]) and m.wire_addr is m.wire_addr
    assert m == MeterRecord("000000123456", "a") and hash(m) == hash(MeterRecord("000000123456", "a"))
