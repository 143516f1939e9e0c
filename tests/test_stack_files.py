"""Stack files read as the Pulumi CLI reads them: go-yaml v3.0.1's rules (github.com/go-yaml/yaml at v3.0.1, cited
per test as file:line), then Pulumi's config.Value (pulumi/pulumi sdk/go/common/resource/config/object.go), and
every broken file refused with its line and column, in bounded time."""

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from appcdn.config.problems import ConfigError
from appcdn.config.pulumi_yaml.go_yaml import go_json_float, parse_go_int, resolve
from appcdn.config.pulumi_yaml.stack_files import StackFile, parse_stack_file, read_text
from appcdn.config.pulumi_yaml.stack_yaml import MAX_FILE_BYTES

LABEL = "stacks/Pulumi.live.yaml"


def read(text: str) -> StackFile:
    return parse_stack_file(text, "appcdn", "live", LABEL)


def value(yaml_value: str) -> str:
    """What the program receives for ``appcdn:x: <yaml_value>``."""
    return read(f"config:\n  appcdn:x: {yaml_value}\n").config["appcdn:x"]


def refused(text: str) -> str:
    with pytest.raises(ConfigError) as err:
        read(text)
    [problem] = err.value.problems
    return str(problem)


# --- scalars: go-yaml v3.0.1 resolve.go -------------------------------------------------------------------


def test_base_60_numbers_are_text() -> None:
    """resolve.go:165-167: base-60 floats are purposefully unsupported (PyYAML reads 1:00:00 as 3600)."""
    assert value("1:00:00") == "1:00:00"
    assert value("[1:00:00]") == '["1:00:00"]'


@pytest.mark.parametrize("word", ["y", "Y", "n", "yes", "No", "on", "On", "OFF", "off"])
def test_yaml_1_1_booleans_are_text(word: str) -> None:
    """resolve.go:52-53: only true/True/TRUE and false/False/FALSE are booleans."""
    assert value(word) == word
    assert value(f"[{word}]") == f'["{word}"]'


@pytest.mark.parametrize("word, expected", [("true", "true"), ("True", "true"), ("FALSE", "false")])
def test_booleans_become_their_json_text(word: str, expected: str) -> None:
    """resolve.go:52-53, then object.go MarshalString: a bool is passed as its JSON text."""
    assert value(word) == expected


@pytest.mark.parametrize("written", ["017", "0o17", "+0o17", "0x0F", "0b1111", "1_5", "15"])
def test_integers_in_every_base_go_accepts(written: str) -> None:
    """resolve.go:191-192: underscores dropped, then strconv.ParseInt(s, 0, 64): 0x, 0o, 0b and a leading 0
    (octal, as in YAML 1.1) — PyYAML reads 017 as 17 only in YAML 1.2 mode and 0o17 as text."""
    assert value(written) == "15"


def test_an_invalid_octal_falls_through_to_a_float() -> None:
    """resolve.go:192-209: 09 is no octal, ParseUint fails too, the float pattern matches: 9 (JSON)."""
    assert value("09") == "9"


def test_integers_beyond_int64_nested_pass_through_float64() -> None:
    """resolve.go:200 (ParseUint) keeps 2^64-1 exact at the top; nested, the engine re-reads the JSON with
    UseNumber and falls back to float64 (object.go UnmarshalJSON, unmarshalObject json.Number)."""
    assert value("18446744073709551615") == "18446744073709551615"
    assert value("[18446744073709551615]") == "[18446744073709552000]"  # Go's shortest float64 text


def test_floats_print_as_go_json() -> None:
    """resolve.go:204-209 then Go's encoding/json: whole numbers without a point, 'e' from 1e21."""
    assert json.loads(value("[1.0, 1.5, 1e21, 1e-7, 100000.0]")) == json.loads("[1,1.5,1e+21,1e-7,100000]")
    assert value("2.50") == "2.5"
    assert [go_json_float(f) for f in (1e21, 1.5e-7, 123.25, -0.0, 1e300)] == [
        "1e+21",
        "1.5e-7",
        "123.25",
        "-0",
        "1e+300",
    ]


def test_a_float_that_overflows_is_text() -> None:
    """resolve.go:204-209: strconv.ParseFloat reports a range error, so the scalar stays a string."""
    assert value("1e400") == "1e400"


@pytest.mark.parametrize("written", [".inf", "-.Inf", ".NaN", "[.nan]"])
def test_infinity_and_nan_cannot_reach_the_program(written: str) -> None:
    """resolve.go:55-58 makes them floats; Go's JSON encoder refuses them (object.go MarshalJSON), so Pulumi
    cannot load the stack file: an error at the value."""
    message = refused(f"config:\n  appcdn:x: {written}\n")
    assert message.startswith(f"{LABEL}:2:") and "is not a number Pulumi can pass on" in message


@pytest.mark.parametrize("written", ["", "~", "null", "Null", "NULL"])
def test_null_is_an_empty_string_at_the_top_and_null_inside(written: str) -> None:
    """resolve.go:54; at the top the null node never reaches config.Value's unmarshaler (decode.go:407-409),
    so the key's value is "" (Pulumi warns it will become null one day); nested it is JSON null."""
    assert value(written) == ""
    assert value(f"{{a: {written}}}") == '{"a":null}'


def test_an_unquoted_date_is_gos_time_text() -> None:
    """resolve.go:180-189, :294-301: a plain date is a timestamp; Pulumi passes it on as Go's Time.String()
    (object.go unmarshalObject ``case time.Time``); PyYAML would make it a date object."""
    assert value("2001-12-14") == "2001-12-14 00:00:00 +0000 UTC"
    assert value("[2001-12-14t21:59:43.10-05:00]") == '["2001-12-14 21:59:43.1 -0500 -0500"]'
    assert value("2001-12-14T21:59:43Z") == "2001-12-14 21:59:43 +0000 UTC"
    assert value("'2001-12-14'") == "2001-12-14"
    assert value("2001-02-30") == "2001-02-30"  # time.Parse refuses the day: text


def test_quoted_and_block_scalars_are_always_text() -> None:
    """yaml.go:463-467 (indicatedString): quoted or block scalars are strings whatever they look like."""
    assert value('"017"') == "017"
    assert value("'true'") == "true"
    assert read("config:\n  appcdn:x: |\n    017\n").config["appcdn:x"] == "017\n"


def test_explicit_core_tags_resolve_or_fail_as_in_go() -> None:
    """resolve.go:126-151: !!str keeps the text, !!float widens an int, a mismatch is an error."""
    assert value("!!str 017") == "017"
    assert value("!!float 1") == "1"
    assert "cannot decode !!str `abc` as a !!int" in refused("config:\n  appcdn:x: !!int abc\n")


def test_the_non_specific_tag_is_no_tag() -> None:
    """decode.go:170-179: a '!' tag is dropped and the plain scalar resolved as usual."""
    assert value("! 017") == "15"


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!!binary", "!!timestamp", "!custom", "!!set"])
def test_other_tags_are_refused_with_what_pulumi_would_do(tag: str) -> None:
    message = refused(f"config:\n  appcdn:x: {tag} aGVsbG8=\n")
    assert message.startswith(f"{LABEL}:2:13: the tag {tag.replace('!!', '!!')}")
    assert "remove it" in message


def test_go_parse_int_matches_strconv() -> None:
    assert [parse_go_int(s) for s in ("0", "00", "0x", "-0x10", "+12", "9223372036854775808", "0o8")] == [
        0,
        0,
        None,
        -16,
        12,
        None,
        None,
    ]
    assert parse_go_int("9223372036854775808", signed=False) == 2**63
    assert resolve("<<") == ("!!str", "<<")  # '<' has no hint in the resolve table (resolve.go:37-45)


# --- maps, keys, aliases: go-yaml v3.0.1 decode.go, Pulumi's loaders.go --------------------------------------


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    """decode.go:769-783: a key given twice is an error, not 'the last one wins'."""
    assert (
        refused("config:\n  appcdn:stage: live\n  appcdn:stage: test\n")
        == f"{LABEL}:3:3: mapping key 'appcdn:stage' already defined at line 2"
    )
    assert (
        refused("config:\n  appcdn:sites:\n    - name: a\n      name: b\n")
        == f"{LABEL}:4:7: mapping key 'name' already defined at line 3"
    )


def test_a_key_given_twice_once_namespaced_is_an_error() -> None:
    """loaders.go stackConfigNamespacedWithProject maps 'stage' to 'appcdn:stage'; both in one file would
    leave Pulumi picking one at random (Go map order)."""
    assert "is the config key appcdn:stage, already given at line 2" in refused(
        "config:\n  appcdn:stage: live\n  stage: test\n"
    )


def test_config_keys_take_pulumis_forms() -> None:
    """config/key.go ParseKey: <namespace>:<name>, the old <namespace>:config:<name>, a bare name for the project."""
    config = read("config:\n  stage: live\n  aws:config:region: eu-west-1\n").config
    assert config == {"appcdn:stage": "live", "aws:region": "eu-west-1"}
    assert "is not a config key" in refused("config:\n  a:b:c: 1\n")


@pytest.mark.parametrize("key", ["1", "true", "1.5", "~", "[a]"])
def test_keys_must_be_text(key: str) -> None:
    """decode.go:789-795 makes a map with any other key a map[interface{}]interface{}, which Pulumi refuses
    (workspace/project.go SimplifyMarshalledValue: 'expected only string keys')."""
    assert "Pulumi accepts only text keys" in refused(f"config:\n  appcdn:x:\n    {key}: v\n")


def test_merge_keys_fill_in_what_the_map_does_not_say() -> None:
    """decode.go:826-857, :959-996: '<<' merges a map (or a list of maps) under the keys already given."""
    config = read(
        "config:\n  appcdn:x: &base {a: 1, b: 2}\n  appcdn:y: {<<: *base, b: 3}\n"
        "  appcdn:z: {<<: [{c: 1}, {c: 2, d: 2}]}\n"
    ).config
    assert config["appcdn:y"] == '{"a":1,"b":3}'
    assert config["appcdn:z"] == '{"c":1,"d":2}'
    assert "map merge requires map" in refused("config:\n  appcdn:x: {<<: 1}\n")


def test_aliases_are_followed_and_checked() -> None:
    """decode.go:533-544: an alias is its anchor's value; one that contains itself is an error."""
    assert read("config:\n  appcdn:x: &h [a, b]\n  appcdn:y: *h\n").config["appcdn:y"] == '["a","b"]'
    assert "contains itself" in refused("config:\n  appcdn:x: &a [*a]\n")
    assert "unknown anchor 'nope'" in refused("config:\n  appcdn:x: *nope\n")


def test_secure_values_are_never_decrypted_and_each_one_is_located() -> None:
    """object.go isSecureValue: a map with the one key 'secure' and a string; its key becomes secret."""
    stack = read(
        "config:\n  appcdn:sites:\n    - certificates:\n        - certificate: {secure: v1:AAA}\n"
        "          private_key: plain\n  appcdn:stage: {secure: v1:BBB}\n  appcdn:x: {secure: 1}\n"
    )
    assert stack.secret_keys == ["appcdn:sites", "appcdn:stage"]
    assert stack.secret_paths == ["sites[0].certificates[0].certificate", "stage"]
    assert "AAA" not in str(stack.config) and "BBB" not in str(stack.config)
    assert stack.config["appcdn:x"] == '{"secure":1}'


def test_a_plain_text_api_token_gets_a_warning_saying_how_to_make_it_secret() -> None:
    [warning] = read("config:\n  cloudflare:apiToken: abc\n").warnings
    assert str(warning) == (
        f"{LABEL}:2:3: cloudflare:apiToken: is in plain text in the stack file; make it a "
        "secret: pulumi config set --secret cloudflare:apiToken (then remove the plain value)"
    )
    assert read("config:\n  cloudflare:apiToken: {secure: v1:x}\n").warnings == []


# --- broken files: exit 2 material, located, bounded -------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("config:\n  appcdn:sites: [\n", "3:1: did not find expected node content (the file ends inside"),
        ("config:\n\tappcdn:stage: live\n", "2:1: found character that cannot start any token (a tab"),
        ("config:\n  appcdn:stage: live\n   appcdn:zones: {}\n", "3:16: mapping values are not allowed"),
        ("- config\n", "1:1: a stack file must be a map of keys and values, not a list"),
        ("just text\n", "1:1: a stack file must be a map of keys and values, not a single value"),
        ("config: [a]\n", "1:9: config must be a map of keys and values, not a list"),
        ("config: text\n", "1:9: config must be a map of keys and values, not a single value"),
        ("config:\n  1: x\n", "2:3: the key 1 is read as int"),
        ("config: {}\n---\nconfig: {}\n", "2:1: a second YAML document: Pulumi reads only the first one"),
        ("config:\n  appcdn:x: \x07\n", "2:13: character '\\x07' is not allowed in YAML"),
    ],
)
def test_broken_files_are_refused_with_line_and_column(text: str, expected: str) -> None:
    assert refused(text).startswith(f"{LABEL}:{expected}")


def test_a_byte_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.live.yaml"
    path.write_bytes(b"config:\n  appcdn:stage: li\xffve\n")
    with pytest.raises(ConfigError) as err:
        read_text(path, LABEL)
    assert str(err.value.problems[0]) == f"{LABEL}:2:19: byte 0xff is not UTF-8; save the file as UTF-8"


def test_a_utf8_bom_is_dropped_as_pulumi_does(tmp_path: Path) -> None:
    """workspace/loaders.go readFileStripUTF8BOM."""
    path = tmp_path / "Pulumi.live.yaml"
    path.write_bytes(b"\xef\xbb\xbfconfig:\n  appcdn:stage: live\n")
    assert read(read_text(path, LABEL)).config == {"appcdn:stage": "live"}


def test_oversized_files_are_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.live.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ConfigError, match="a stack file is at most"):
        read_text(path, LABEL)


@pytest.mark.parametrize(
    "text",
    [
        "config:\n  appcdn:x: " + "[" * 3000 + "]" * 3000 + "\n",
        "config:\n  appcdn:x:\n" + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(3000)),
        "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "lol"] * 9) + "]\n" for i in range(10))
        + "config:\n  appcdn:x: *a9\n",
    ],
)
def test_deep_nesting_and_alias_bombs_stop_quickly(text: str) -> None:
    started = time.perf_counter()
    message = refused(text)
    assert time.perf_counter() - started < 1.0
    assert any(words in message for words in ("nesting depth", "deeper than", "excessive aliasing", "expands to"))


# --- files that are not plain files: refused by what they are, never read past the limit ------------------


def planned_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, make: Callable[[Path], object], stack: str = "live"
) -> tuple[int, list[str]]:
    """``appcdn plan --stack <stack>`` on a copy of the shipped project with ``stacks/Pulumi.<name>.yaml`` made by
    ``make(path)``; the command runs in a thread that must finish within 20 s (a FIFO once blocked it forever)."""
    import shutil
    import threading

    from tests.conftest import ROOT, appcdn

    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    make(tmp_path / "stacks" / f"Pulumi.{name}.yaml")
    result: list[tuple[int, str, str]] = []
    runner = threading.Thread(target=lambda: result.append(appcdn(capsys, "plan", "--stack", stack, cwd=tmp_path)))
    runner.daemon = True
    runner.start()
    runner.join(20)
    assert result, "appcdn plan did not finish"
    code, _, err = result[0]
    assert "Traceback" not in err
    return code, [line.strip() for line in err.splitlines() if line.startswith("  ")]


@pytest.mark.parametrize("name", ["a", "z"], ids=["sorted before the stack", "sorted after the stack"])
def test_a_dangling_symbolic_link_is_a_stack_file_that_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """It once crashed the plan (FileNotFoundError, exit 1), or said "no stack 'z'" when live was asked for."""
    code, lines = planned_with(tmp_path, capsys, name, lambda path: path.symlink_to("Pulumi.gone.yaml"))
    assert (code, lines) == (
        2,
        [
            f"stacks/Pulumi.{name}.yaml: cannot be read: it is a symbolic link to 'Pulumi.gone.yaml', which does "
            "not exist"
        ],
    )


def test_a_symbolic_link_loop_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = planned_with(tmp_path, capsys, "a", lambda path: path.symlink_to(path.name))
    assert (code, lines) == (
        2,
        [
            "stacks/Pulumi.a.yaml: cannot be read: it is a symbolic link to 'Pulumi.a.yaml' that loops back on "
            "itself; a stack file is a plain file"
        ],
    )


@pytest.mark.parametrize("stack", ["live", "p"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str
) -> None:
    """Opening a FIFO for reading once blocked the plan forever."""
    code, lines = planned_with(tmp_path, capsys, "p", lambda path: os.mkfifo(path), stack)
    assert (code, lines) == (2, ["stacks/Pulumi.p.yaml: cannot be read: it is a FIFO (named pipe), not a plain file"])


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_a_device_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str], device: str) -> None:
    """A device's size is 0; reading /dev/zero once ran until memory ran out (MemoryError)."""
    code, lines = planned_with(tmp_path, capsys, "d", lambda path: path.symlink_to(device))
    assert (code, lines) == (2, ["stacks/Pulumi.d.yaml: cannot be read: it is a device, not a plain file"])


@pytest.mark.skipif(
    not os.access("/proc/kallsyms", os.R_OK) or os.stat("/proc/kallsyms").st_size != 0,
    reason="needs /proc/kallsyms, a plain file whose size says 0",
)
def test_what_is_read_is_bounded_not_what_stat_says(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/proc/kallsyms is a plain file of several MB whose ``st_size`` is 0: only the limit plus one byte is read."""
    with open("/proc/kallsyms", "rb") as kallsyms:
        big = len(kallsyms.read(MAX_FILE_BYTES + 1)) > MAX_FILE_BYTES
    if not big:
        pytest.skip("/proc/kallsyms is below the limit here")
    code, lines = planned_with(tmp_path, capsys, "k", lambda path: path.symlink_to("/proc/kallsyms"))
    assert (code, lines) == (
        2,
        [f"stacks/Pulumi.k.yaml: more than {MAX_FILE_BYTES} bytes: a stack file is at most {MAX_FILE_BYTES}"],
    )


def test_directories_empty_and_unreadable_files_keep_their_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = planned_with(tmp_path, capsys, "dir", lambda path: path.mkdir())
    assert (code, lines) == (2, ["stacks/Pulumi.dir.yaml: cannot be read: Is a directory"])
    (tmp_path / "empty").mkdir()
    assert planned_with(tmp_path / "empty", capsys, "empty", lambda path: path.write_text("")) == (
        2,
        ["stacks/Pulumi.empty.yaml: sites: Field required", "stacks/Pulumi.empty.yaml: stage: Field required"],
    )
    if os.geteuid() != 0:  # root reads any file
        locked = tmp_path / "locked"
        locked.mkdir()

        def unreadable(path: Path) -> None:
            path.write_text("config: {}\n")
            path.chmod(0)

        code, lines = planned_with(locked, capsys, "locked", unreadable)
        assert (code, lines) == (2, ["stacks/Pulumi.locked.yaml: cannot be read: Permission denied"])


def test_the_project_file_is_read_the_same_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Pulumi.yaml as a FIFO would have blocked every command that reads the project."""
    import shutil

    from tests.conftest import ROOT, appcdn

    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    os.mkfifo(tmp_path / "Pulumi.yaml")
    code, _, err = appcdn(capsys, "plan", "--stack", "live", cwd=tmp_path)
    assert (code, err.splitlines()[1:]) == (
        2,
        ["  Pulumi.yaml: cannot be read: it is a FIFO (named pipe), not a plain file"],
    )
