"""Every input the fuzz campaign (`make fuzz`) or a bug report found breaking a command now keeps the
contract: exit 0, or one line on stderr and exit 2. fuzz/crashers/TARGET/* are those inputs."""

from __future__ import annotations

from fuzz.targets import ROOT, TARGETS, ContractError, check, seed_files


def test_every_crasher_keeps_the_contract() -> None:
    broken: list[str] = []
    replayed = 0
    for name, target in TARGETS.items():
        for path in sorted((ROOT / "fuzz" / "crashers" / name).glob("*")):
            if path.suffix == ".why":
                continue
            replayed += 1
            try:
                check(target, path.read_bytes())
            except ContractError as error:
                broken.append(f"{name}/{path.name}: {error}")
    assert replayed > 0
    assert not broken, "\n".join(broken)


def test_every_target_has_seeds_in_the_project() -> None:
    for target in TARGETS.values():
        own = [path for path in seed_files(target) if ROOT in path.parents]
        assert own, f"{target.name} has no seed in the project itself"
