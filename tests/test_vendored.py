"""vendor.txt parsing, on the real pip wheels and on every form pip has used."""

from __future__ import annotations

import zipfile

import pytest
from conftest import PIP_22_3_1_VENDORED, PIP_WHEELS

from sbomgen.errors import ContentError
from sbomgen.scan.wheels import parse_vendor_txt, read_wheel


def vendor_txt(version: str) -> str:
    with zipfile.ZipFile(PIP_WHEELS / f"pip-{version}-py3-none-any.whl") as wheel:
        return wheel.read("pip/_vendor/vendor.txt").decode()


def test_pip_22_3_1(real_data: object) -> None:
    assert parse_vendor_txt(vendor_txt("22.3.1"), "vendor.txt") == PIP_22_3_1_VENDORED


def test_pip_24_2(real_data: object) -> None:
    assert parse_vendor_txt(vendor_txt("24.2"), "vendor.txt") == [
        ("cachecontrol", "0.14.0"),
        ("distlib", "0.3.8"),
        ("distro", "1.9.0"),
        ("msgpack", "1.0.8"),
        ("packaging", "24.1"),
        ("platformdirs", "4.2.2"),
        ("pyproject-hooks", "1.0.0"),
        ("requests", "2.32.3"),
        ("certifi", "2024.7.4"),
        ("idna", "3.7"),
        ("urllib3", "1.26.18"),
        ("rich", "13.7.1"),
        ("pygments", "2.18.0"),
        ("typing-extensions", "4.12.2"),
        ("resolvelib", "1.0.1"),
        ("setuptools", "70.3.0"),
        ("tomli", "2.0.1"),
        ("truststore", "0.9.1"),
    ]


def test_pip_25_1_1(real_data: object) -> None:
    wheel_path = PIP_WHEELS / "pip-25.1.1-py3-none-any.whl"
    wheel, vendored = read_wheel(
        f"Lib/ensurepip/_bundled/{wheel_path.name}", wheel_path.read_bytes(), ("SHA256",)
    )
    assert (wheel.name, wheel.version, wheel.purl) == ("pip", "25.1.1", "pkg:pypi/pip@25.1.1")
    assert wheel.cpe == "cpe:2.3:a:pypa:pip:25.1.1:*:*:*:*:*:*:*"
    assert wheel.checksums[0].value == "2913a38a2abf4ea6b64ab507bd9e967f3b53dc1ede74b01b0931e1ce548751af"
    assert [(c.name, c.version) for c in vendored][-3:] == [
        ("tomli-w", "1.2.0"),
        ("truststore", "0.10.1"),
        ("dependency-groups", "1.3.1"),
    ]
    assert len(vendored) == 20
    assert all(c.purl == f"pkg:pypi/{c.name}@{c.version}" for c in vendored)


def test_every_form() -> None:
    text = (
        "# a comment line\n"
        "CacheControl==0.12.11  # trailing comment\n"
        "    Typing_Extensions==4.4.0\n"
        "\n"
        "zope.interface==6.0\n"
        "truststore==0.10.0rc1\r\n"
        "\tindented.with.tab==1.0.post2\n"
    )
    assert parse_vendor_txt(text, "vendor.txt") == [
        ("cachecontrol", "0.12.11"),
        ("typing-extensions", "4.4.0"),
        ("zope-interface", "6.0"),
        ("truststore", "0.10.0rc1"),
        ("indented-with-tab", "1.0.post2"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("requests>=2.0", "not a NAME==VERSION pin"),
        ("requests", "not a NAME==VERSION pin"),
        ("requests==2.0,!=2.1", "not a NAME==VERSION pin"),
        ("requests == = 2", "not a NAME==VERSION pin"),
        ("legacy===1.0-custom", "not a NAME==VERSION pin"),  # arbitrary equality: any string at all
        ("six==1.16.0\nSix==1.16.0", "six is listed twice"),
    ],
)
def test_bad_lines(line: str, message: str) -> None:
    with pytest.raises(ContentError, match=message) as error:
        parse_vendor_txt(line + "\n", "pip/_vendor/vendor.txt")
    assert "pip/_vendor/vendor.txt, line" in str(error.value)


def test_licenses_from_the_artifact() -> None:
    import io
    import json as json_

    from conftest import make_wheel

    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {"name": "Requests", "version": "2.0.0", "licenses": [{"license": {"id": "Apache-2.0"}}]},
            {"name": "idna", "version": "3.10", "licenses": [{"expression": "BSD-3-Clause"}]},
            {"name": "odd", "version": "1", "licenses": [{"license": {"name": "Some custom licence"}}]},
        ],
    }
    buffer = io.BytesIO(make_wheel(vendor_txt="requests==2.0.0\nidna==3.10\nodd==1\n"))
    with zipfile.ZipFile(buffer, "a") as wheel:
        wheel.writestr("pip/_vendor/bom.cdx.json", json_.dumps(bom))
    _, vendored = read_wheel(
        "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl", buffer.getvalue(), ("SHA256",)
    )
    assert {c.name: c.license_declared for c in vendored} == {
        "requests": "Apache-2.0",
        "idna": "BSD-3-Clause",
        "odd": None,
    }


def test_wheel_license_from_metadata(real_data: object) -> None:
    wheel_path = PIP_WHEELS / "pip-25.1.1-py3-none-any.whl"
    wheel, _ = read_wheel(wheel_path.name, wheel_path.read_bytes(), ("SHA256",))
    assert wheel.license_declared == "MIT"
