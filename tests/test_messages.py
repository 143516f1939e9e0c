"""Problems in words that help: what the file said and how to write it, wirefilter's reason, no secret value in
any message, and every part of a file checked in one pass."""

import pytest

from appcdn.config.problems import ConfigError
from appcdn.config.project import load_project
from appcdn.config.pulumi_yaml.stack_files import parse_stack_file

PEM = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n"


def live(sites: str, zone: str = "{id: 023e105f4ecef8ad9ca31a8372d0c353, plan: business}") -> str:
    return f"config:\n  appcdn:zones:\n    example.com: {zone}\n  appcdn:sites:\n{sites}"


SHOP = "    - name: shop\n      zone: example.com\n      hosts: [www.example.com]\n"


def problems_in(text: str) -> list[str]:
    """The problems of one live stack file, as the plan prints them (without the file name)."""
    source = parse_stack_file(text, "appcdn", "live", "f.yaml").source()
    with pytest.raises(ConfigError) as err:
        load_project(source)
    return [str(p).removeprefix("f.yaml:") for p in err.value.problems]


def test_a_boolean_where_a_word_is_expected_says_what_the_file_said_and_how_to_quote_it() -> None:
    assert problems_in(live(SHOP, "{id: 023e105f4ecef8ad9ca31a8372d0c353, settings: {tls_1_3: true}}")) == [
        "3:68: zones.example.com.settings.tls_1_3: true is not allowed; 'on', 'off' or 'zrt' (the file says true, "
        "which YAML reads as a boolean, not text; write one of 'on', 'off', 'zrt' in quotes, e.g. tls_1_3: \"on\")"
    ]


def test_on_is_text_for_pulumi_so_it_is_accepted() -> None:
    """go-yaml v3 resolve.go:52-53: only true/false are booleans; PyYAML made ``on`` True."""
    source = parse_stack_file(
        live(SHOP, "{id: 023e105f4ecef8ad9ca31a8372d0c353, settings: {tls_1_3: on}}"), "appcdn", "live", "f.yaml"
    ).source()
    assert load_project(source).config.zones["example.com"].settings.tls_1_3 == "on"


def test_a_number_where_text_is_expected_says_how_to_quote_it() -> None:
    assert problems_in(live(SHOP, "{id: 023e105f4ecef8ad9ca31a8372d0c353, settings: {min_tls_version: 1.2}}")) == [
        "3:68: zones.example.com.settings.min_tls_version: 1.2 is not allowed; '1.2' or '1.3' (the file says 1.2, "
        'which YAML reads as a number, not text; quote it: min_tls_version: "1.2")'
    ]


def test_on_where_a_boolean_is_expected_says_to_write_true_or_false() -> None:
    assert problems_in(live(SHOP, "{id: 023e105f4ecef8ad9ca31a8372d0c353, settings: {http3: on}}")) == [
        "3:68: zones.example.com.settings.http3: 'on' is text; should be true or false (Pulumi reads yes/no/on/off "
        "as text, as YAML 1.2 does: write true or false)"
    ]


def test_a_boolean_is_no_number() -> None:
    """Strict models: ``true`` would have been 1 day."""
    site = SHOP + "      media: {backend: aws, aws: {noncurrent_version_days: true}}\n"
    assert problems_in(live(site)) == [
        "8:35: sites[0].media.aws.noncurrent_version_days: true is a boolean; should be a whole number"
    ]


@pytest.mark.parametrize(
    "where",
    [
        "      certificates: [{name: own, mode: uploaded, hosts: [www.example.com], validation_method: {pem}}]\n",
        "      origin: {pem}\n",
        "      cache: {{rules: [{{name: x, action: cache, match: {{expression: {pem}}}}}]}}\n",
        "      certificates: [{name: own, mode: uploaded, hosts: [www.example.com], certificate: [{pem}]}]\n",
    ],
)
def test_a_pem_pasted_into_the_wrong_field_is_never_printed(where: str) -> None:
    problems = problems_in(live(SHOP + where.replace("{pem}", f'"{PEM}"').replace("{{", "{").replace("}}", "}")))
    assert problems and not any("MIIE" in p or "BEGIN" in p for p in problems)
    assert any("the value (not shown: it may be secret)" in p or "got a list" in p for p in problems)


def test_a_value_given_as_a_secret_is_never_printed_even_in_a_field_that_is_not_secret() -> None:
    site = SHOP + "      origin: {secure: v1:abc}\n"
    assert problems_in(live(site)) == [
        "8:7: sites[0].origin: the value (not shown: it may be secret) is not a host name (a DNS name such as "
        "www.example.com)"
    ]


def test_a_broken_site_does_not_hide_the_meaning_problems_of_the_others() -> None:
    sites = (
        "    - {name: shop, zone: example.com, hosts: [www.example.com], cache: {rules: [{name: x}]}}\n"
        "    - {name: blog, zone: example.com, hosts: [blog.example.org]}\n"
    )
    assert problems_in(live(sites)) == [
        "5:81: sites[0].cache.rules[0].action: Field required",
        "6:39: sites[1].hosts: 'blog.example.org' is outside the site's zone example.com",
    ]


def test_a_broken_part_of_a_site_does_not_hide_the_sites_other_problems() -> None:
    site = (
        "    - name: shop\n      zone: example.com\n      hosts: [www.example.com]\n"
        "      images: [{name: x, match: {}, polish: lossy, colour: red}]\n"
        "      certificates: [{name: c, mode: advanced, hosts: [www.example.com]}]\n"
    )
    assert problems_in(live(site)) == [
        "9:48: sites[0].certificates[0].hosts: an advanced certificate pack must include the zone apex example.com",
        "8:52: sites[0].images[0].colour: unknown key",
    ]


def test_a_broken_zone_does_not_make_its_sites_undeclared() -> None:
    assert problems_in(live(SHOP, "{id: 023e105f4ecef8ad9ca31a8372d0c353, plan: gold}")) == [
        "3:57: zones.example.com.plan: 'gold' is not allowed; 'free', 'pro', 'business' or 'enterprise'"
    ]


def test_each_secret_field_is_checked_on_its_own_where_the_file_says_which_values_are_secret() -> None:
    """Offline, the reader sees which nested values were ``secure:``; a plain key beside a secret certificate is
    refused although ``appcdn:sites`` as a whole is secret (what the engine alone would tell the program)."""
    site = SHOP + (
        "      certificates:\n        - name: own\n          mode: uploaded\n"
        "          hosts: [www.example.com]\n"
        "          certificate: {secure: v1:AAAA}\n          private_key: PLAINKEY\n"
    )
    problems = problems_in(live(site))
    assert problems == [
        "13:11: sites[0].certificates[0].private_key: must be a secret: pulumi config set --secret "
        "--path 'appcdn:sites[0].certificates[0].private_key' < file.pem"
    ]
    source = parse_stack_file(live(site), "appcdn", "live", "f.yaml").source()
    assert source.secret_keys == ["appcdn:sites"] and source.secret_paths == ["sites[0].certificates[0].certificate"]
