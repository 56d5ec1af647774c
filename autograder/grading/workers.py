"""Where submissions are graded: worker processes on this machine, or a Dask cluster.

A submission travels to its worker as bytes (`PackedSubmission`), so a worker needs no
shared filesystem, only its own checkout of the course and the sandbox. Each worker
grades in its own sandboxed kernel, renders the feedback, and sends back plain results.
The grading process alone writes files and the gradebook.
"""
from __future__ import annotations

import os
import socket
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..course import Course, CourseError
from .execute import KernelLimits
from .names import safe_name
from .outputs import RenderedFeedback, render_feedback
from .reference import ReferenceOutputs
from .sandbox import SandboxLimits
from .submission import SubmissionResult, grade_submission, zero_result
from .submission_files import MAX_SUBMISSION_BYTES, read_submission, skipped_reason  # noqa: F401 - re-exported


@dataclass(frozen=True)
class PackedSubmission:
    student: str
    assignment: str
    #: Relative path -> content: the folder's regular files, hidden ones left out (submission_files.py).
    files: dict[str, bytes] = field(repr=False)
    #: Set when the folder could not be packed; the worker then records this reason.
    problem: str = ""
    #: Entries not packed (links, pipes, devices, too deep), each "'name' (why)"; named on the row.
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkerOptions:
    limits: KernelLimits = KernelLimits()
    sandbox_limits: SandboxLimits = SandboxLimits()
    unsafe_no_sandbox: bool = False
    #: Fork kernels from a zygote that has imported TensorFlow (zygote.py); False starts each afresh.
    warm_kernels: bool = True


@dataclass
class GradedSubmission:
    result: SubmissionResult
    feedback: RenderedFeedback
    worker: str


def pack_submission(student: str, assignment: str, folder: Path, problem: str = "") -> PackedSubmission:
    """The submission's regular files as bytes; links, pipes and devices are never followed or read."""
    if problem:
        return PackedSubmission(student, assignment, {}, problem)
    read = read_submission(folder)
    return PackedSubmission(student, assignment, read.files, read.problem, read.skipped)


def _notebook_for(folder: Path, notebook_name: str) -> tuple[Path | None, str]:
    """The submitted notebook to grade, or None and the reason none can be graded."""
    expected = folder / f"{notebook_name}.ipynb"
    if expected.is_file() and not expected.is_symlink():
        return expected, ""
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())
    if len(notebooks) == 1:
        return notebooks[0], ""
    if not notebooks:
        return None, f"no notebook submitted (expected {expected.name})"
    return None, f"{expected.name} not found among {len(notebooks)} notebooks"


def _unpack(files: dict[str, bytes], folder: Path) -> None:
    """Write packed files under `folder`; a name that is absolute, has NUL or `..`/`.` parts is refused."""
    folder.mkdir(parents=True, exist_ok=True)
    base = folder.resolve()
    for relative, content in files.items():
        parts = relative.split("/")
        if "\0" in relative or relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
            continue
        target = folder.joinpath(*parts)
        if base not in target.resolve().parents:
            continue  # never write outside the upload folder
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(os.fsencode(target), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except (OSError, UnicodeError):
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)


_SANDBOXES: dict = {}


def _sandbox_for(options: WorkerOptions):
    """This worker's sandbox, probed once per process (raises CourseError without bwrap)."""
    from .runner import make_sandbox

    key = (options.unsafe_no_sandbox, options.sandbox_limits, options.warm_kernels)
    if key not in _SANDBOXES:
        _SANDBOXES[key] = make_sandbox(Course.here(), options.unsafe_no_sandbox, options.sandbox_limits,
                                       options.warm_kernels)
    return _SANDBOXES[key]


def grade_packed(reference: ReferenceOutputs, packed: PackedSubmission, options: WorkerOptions) -> GradedSubmission:
    """Grade one submission on this worker. Runs anywhere the course is checked out."""
    course = Course.here()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    if packed.problem:
        result = zero_result(reference, packed.student, packed.problem)
    else:
        sandbox = _sandbox_for(options)
        with tempfile.TemporaryDirectory(prefix="autograder-upload-") as tmp:
            folder = Path(tmp) / safe_name(packed.student) / safe_name(packed.assignment)
            _unpack(packed.files, folder)
            notebook, problem = _notebook_for(folder, reference.notebook_name)
            if notebook is None:
                result = zero_result(reference, packed.student, problem)
            else:
                result = grade_submission(reference, notebook, packed.student, course.root, options.limits, sandbox)
            if packed.skipped:
                result.reason = "; ".join(filter(None, [result.reason, skipped_reason(packed.skipped)]))
        result.sandboxed = sandbox is not None
    try:
        feedback = render_feedback(result)
    except Exception as exc:  # noqa: BLE001 - the grades stand; the page falls back to the score table alone
        result.reason = "; ".join(filter(None, [result.reason, f"the feedback page could not be rendered from the "
                                                               f"notebook ({type(exc).__name__})"]))
        result.feedback_notebook = None
        feedback = render_feedback(result)
    result.feedback_notebook = None  # the rendered copy is what travels back
    return GradedSubmission(result, feedback, worker)


class WorkerFailure(Exception):
    """A worker could not grade a submission (it died, or the grader itself failed)."""


# --- local worker processes -------------------------------------------------------------

@dataclass(frozen=True)
class ReferenceJob:
    """Run one assignment's reference solution on a worker, with this run's seed."""
    assignment: str
    seed: int


_WORKER_REFERENCES: dict[str, ReferenceOutputs] = {}


def _init_local_worker(references: dict[str, ReferenceOutputs]) -> None:
    import signal

    # Ctrl-C is the grading process's to handle; it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_REFERENCES.update(references)


def _reference_in_local_worker(job: ReferenceJob, options: WorkerOptions) -> ReferenceOutputs:
    """The reference solution run on this worker's kernels: warm ones when the sandbox is warm."""
    from .reference import build_reference

    reference = build_reference(Course.here(), job.assignment, job.seed, options.limits, _sandbox_for(options))
    _WORKER_REFERENCES[job.assignment] = reference
    return reference


def _grade_in_local_worker(packed: PackedSubmission, options: WorkerOptions,
                           reference: ReferenceOutputs | None = None) -> GradedSubmission:
    return grade_packed(reference or _WORKER_REFERENCES[packed.assignment], packed, options)


def run_local(references: dict[str, ReferenceOutputs], work: Iterable[PackedSubmission], options: WorkerOptions,
              workers: int, reference_jobs: Iterable[ReferenceJob] = ()
              ) -> Iterator[tuple[ReferenceJob | PackedSubmission, object]]:
    """Grade on `workers` processes of this machine; yield each job as it finishes.

    `reference_jobs` run first, on the same workers and kernels as the class (each yields
    (job, ReferenceOutputs or the exception)); a submission starts as soon as its assignment's
    reference is known, so no worker waits for the slowest reference. Submissions yield
    (packed, GradedSubmission or the exception).

    A worker process that dies (the kernel's death never kills it; the OOM killer might)
    breaks the pool: the jobs it held are tried again in a fresh pool, up to three times.
    """
    import multiprocessing
    from collections import defaultdict
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    known = dict(references)
    jobs = list(reference_jobs)
    coming = {job.assignment for job in jobs}
    waiting: dict[str, list[PackedSubmission]] = defaultdict(list)
    todo: list = list(jobs)
    for packed in work:
        if packed.assignment in coming and packed.assignment not in known:
            waiting[packed.assignment].append(packed)
        else:
            todo.append(packed)
    tries: Counter = Counter()

    def key(job) -> tuple:
        return ("reference", job.assignment) if isinstance(job, ReferenceJob) else (job.student, job.assignment)

    while todo:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_local_worker, initargs=(references,))
        try:
            futures: dict = {}

            def submit(job) -> None:
                if isinstance(job, ReferenceJob):
                    futures[pool.submit(_reference_in_local_worker, job, options)] = job
                else:  # a reference built on another worker travels with the submission
                    extra = () if job.assignment in references else (known.get(job.assignment),)
                    futures[pool.submit(_grade_in_local_worker, job, options, *extra)] = job

            for job in todo:
                submit(job)
            todo = []
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    job = futures.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        tries[key(job)] += 1
                        if tries[key(job)] < 3:
                            todo.append(job)
                            continue
                        outcome = WorkerFailure("the grading worker died three times on this " +
                                                ("reference solution" if isinstance(job, ReferenceJob) else "submission"))
                    except Exception as exc:  # noqa: BLE001 - reported on the job's row
                        outcome = exc
                    if isinstance(job, ReferenceJob):
                        if isinstance(outcome, ReferenceOutputs):
                            known[job.assignment] = outcome
                            for packed in waiting.pop(job.assignment, []):
                                submit(packed)
                    yield job, outcome
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    for packed in (p for group in waiting.values() for p in group):
        # Their reference never came (it failed): the caller has been told, through its job.
        yield packed, WorkerFailure(f"the reference solution of {packed.assignment} did not run")


# --- a Dask cluster ------------------------------------------------------------------------

def _grade_on_dask_worker(references: dict[str, ReferenceOutputs], packed: PackedSubmission,
                          options: WorkerOptions) -> GradedSubmission:
    from dataclasses import replace

    from distributed import get_worker

    from .runner import default_workers

    # Each of this worker's threads runs one kernel: share this machine's cores among them.
    threads = max(1, default_workers() // max(1, get_worker().state.nthreads))
    options = replace(options, limits=replace(options.limits, threads=threads))
    return grade_packed(references[packed.assignment], packed, options)


def run_dask(scheduler: str, references: dict[str, ReferenceOutputs], work: Iterable[PackedSubmission],
             options: WorkerOptions) -> Iterator[tuple[PackedSubmission, GradedSubmission | Exception]]:
    """Grade on an existing dask.distributed cluster; yield each submission as it finishes."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise CourseError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") from None
    try:
        client = Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise CourseError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        if not client.scheduler_info().get("workers"):
            client.wait_for_workers(1, timeout=60)
        shared = client.scatter(references, broadcast=True)
        futures = {}
        for packed in work:
            future = client.submit(_grade_on_dask_worker, shared, packed, options, pure=False, retries=2,
                                   key=f"grade-{safe_name(packed.assignment)}-{safe_name(packed.student)}-{os.urandom(4).hex()}")
            futures[future.key] = (future, packed)
        for future in as_completed([f for f, _ in futures.values()]):
            packed = futures[future.key][1]
            try:
                yield packed, future.result()
            except Exception as exc:  # noqa: BLE001 - reported on the submission's row
                yield packed, exc
    finally:
        client.close()
