// Package sweep runs an experiment grid as independent cells, on one machine
// or as the tasks of a cluster's job array, and collects them.
//
// A plan folder holds plan.json (the format, the flowlab build that wrote it,
// the experiments, scale and seeds) and cells.jsonl (one Cell a line: its
// index, a stable id, its experiment and its full config). Each cell runs in
// its own folder, cells/ID/, under an advisory lock of its own (two
// processes on one cell: the second is refused; a Runner may take the
// folder's train.Run lock inside it), and is finished when its done.json is
// written, last and atomically, holding the digest of the config it ran. A
// finished cell is skipped; an interrupted one is run again, and a Runner
// that checkpoints (train.Run with Resume) continues where it stopped. A cell
// whose folder records another config than the plan's is refused, not
// overwritten. A cell may read the results of others (Cell.Needs, one
// level deep): it is refused until they are done, Local starts it once they
// are, and a scheduler submits such cells as a second array that waits for
// the tasks they read.
//
// The package knows nothing of schedulers: an array task calls RunCell with
// its index; the command line writes the scheduler's scripts.
package sweep
