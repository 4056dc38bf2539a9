"""Event types of the Go execution trace (runtime/trace, format v2: Go 1.22 to 1.27) per header version.

Type numbers never change between versions; a later version only appends. The tables follow Go's
internal/trace/tracev2/events.go (1.25+) and internal/trace/event/go122 (1.22 to 1.24), including the
argument names `go tool trace -d=wire` prints. Timed events list `dt` as their first argument.
"""

from __future__ import annotations

from dataclasses import dataclass

EV_EVENT_BATCH = 1
EV_STACKS = 2
EV_STACK = 3
EV_STRINGS = 4
EV_STRING = 5
EV_CPU_SAMPLES = 6
EV_CPU_SAMPLE = 7
EV_FREQUENCY = 8
EV_EXPERIMENTAL_BATCH = 49
EV_SYNC = 50
EV_CLOCK_SNAPSHOT = 51
EV_END_OF_GENERATION = 52

EXPERIMENT_ALLOC_FREE = 1
"""Experiment id of the `GODEBUG=traceallocfree=1` batches (Go 1.23+)."""

NO_THREAD = (1 << 64) - 1
"""The M id of batches that belong to no thread (strings, stacks, CPU samples, sync), and of
goroutines that are on no M in GoStatus."""


@dataclass(frozen=True)
class EventSpec:
    """What follows an event's type byte: `args` varints, then for stacks 4 varints per frame."""

    number: int
    name: str
    args: tuple[str, ...]
    timed: bool
    since: int
    experimental: bool = False

    @property
    def stack_args(self) -> tuple[int, ...]:
        """Indexes (into args) of stack-table ids."""
        return tuple(i for i, name in enumerate(self.args) if name in ("stack", "new_stack"))

    @property
    def string_args(self) -> tuple[int, ...]:
        """Indexes (into args) of string-table ids."""
        return tuple(i for i, name in enumerate(self.args) if name.endswith("_string"))


def _timed(number: int, name: str, args: str, since: int = 22, experimental: bool = False) -> EventSpec:
    return EventSpec(number, name, ("dt", *args.split()), True, since, experimental)


def _plain(number: int, name: str, args: str, since: int = 22) -> EventSpec:
    return EventSpec(number, name, tuple(args.split()), False, since)


ALL_SPECS: tuple[EventSpec, ...] = (
    _plain(EV_EVENT_BATCH, "EventBatch", "gen m time size"),
    _plain(EV_STACKS, "Stacks", ""),
    _plain(EV_STACK, "Stack", "id nframes"),
    _plain(EV_STRINGS, "Strings", ""),
    _plain(EV_STRING, "String", "id"),
    _plain(EV_CPU_SAMPLES, "CPUSamples", ""),
    _plain(EV_CPU_SAMPLE, "CPUSample", "time m p g stack"),
    _plain(EV_FREQUENCY, "Frequency", "freq"),
    _timed(9, "ProcsChange", "procs_value stack"),
    _timed(10, "ProcStart", "p p_seq"),
    _timed(11, "ProcStop", ""),
    _timed(12, "ProcSteal", "p p_seq m"),
    _timed(13, "ProcStatus", "p pstatus"),
    _timed(14, "GoCreate", "new_g new_stack stack"),
    _timed(15, "GoCreateSyscall", "new_g"),
    _timed(16, "GoStart", "g g_seq"),
    _timed(17, "GoDestroy", ""),
    _timed(18, "GoDestroySyscall", ""),
    _timed(19, "GoStop", "reason_string stack"),
    _timed(20, "GoBlock", "reason_string stack"),
    _timed(21, "GoUnblock", "g g_seq stack"),
    _timed(22, "GoSyscallBegin", "p_seq stack"),
    _timed(23, "GoSyscallEnd", ""),
    _timed(24, "GoSyscallEndBlocked", ""),
    _timed(25, "GoStatus", "g m gstatus"),
    _timed(26, "STWBegin", "kind_string stack"),
    _timed(27, "STWEnd", ""),
    _timed(28, "GCActive", "gc_seq"),
    _timed(29, "GCBegin", "gc_seq stack"),
    _timed(30, "GCEnd", "gc_seq"),
    _timed(31, "GCSweepActive", "p"),
    _timed(32, "GCSweepBegin", "stack"),
    _timed(33, "GCSweepEnd", "swept_value reclaimed_value"),
    _timed(34, "GCMarkAssistActive", "g"),
    _timed(35, "GCMarkAssistBegin", "stack"),
    _timed(36, "GCMarkAssistEnd", ""),
    _timed(37, "HeapAlloc", "heapalloc_value"),
    _timed(38, "HeapGoal", "heapgoal_value"),
    _timed(39, "GoLabel", "label_string"),
    _timed(40, "UserTaskBegin", "task parent_task name_string stack"),
    _timed(41, "UserTaskEnd", "task stack"),
    _timed(42, "UserRegionBegin", "task name_string stack"),
    _timed(43, "UserRegionEnd", "task name_string stack"),
    _timed(44, "UserLog", "task key_string value_string stack"),
    _timed(45, "GoSwitch", "g g_seq", 23),
    _timed(46, "GoSwitchDestroy", "g g_seq", 23),
    _timed(47, "GoCreateBlocked", "new_g new_stack stack", 23),
    _timed(48, "GoStatusStack", "g m gstatus stack", 23),
    _plain(EV_EXPERIMENTAL_BATCH, "ExperimentalBatch", "exp gen m time", 23),
    _plain(EV_SYNC, "Sync", "", 25),
    _timed(EV_CLOCK_SNAPSHOT, "ClockSnapshot", "mono sec nsec", 25),
    _plain(EV_END_OF_GENERATION, "EndOfGeneration", "", 26),
    _timed(128, "Span", "id npages_value kindclass", 23, True),
    _timed(129, "SpanAlloc", "id npages_value kindclass", 23, True),
    _timed(130, "SpanFree", "id", 23, True),
    _timed(131, "HeapObject", "id type", 23, True),
    _timed(132, "HeapObjectAlloc", "id type", 23, True),
    _timed(133, "HeapObjectFree", "id", 23, True),
    _timed(134, "GoroutineStack", "id order", 23, True),
    _timed(135, "GoroutineStackAlloc", "id order", 23, True),
    _timed(136, "GoroutineStackFree", "id", 23, True),
)

VERSIONS = (22, 23, 25, 26)
"""Header minor versions of format v2: 1.22; 1.23 (written by Go 1.23 and 1.24); 1.25; 1.26 (1.26, 1.27)."""

MAX_TIMED_ARGS = 5
"""Most varints a timed event carries, dt included (Go's MaxTimedEventArgs)."""


@dataclass(frozen=True)
class VersionSpecs:
    """The event table one header version allows, indexed by type byte."""

    version: int
    by_type: tuple[EventSpec | None, ...]

    def get(self, event_type: int) -> EventSpec | None:
        return self.by_type[event_type]


def specs_for(version: int) -> VersionSpecs:
    """The events a trace with header `go 1.<version> trace` may hold."""
    table: list[EventSpec | None] = [None] * 256
    for spec in ALL_SPECS:
        if spec.since <= version:
            table[spec.number] = spec
    return VersionSpecs(version, tuple(table))
