// Package lab runs sharpflat's training for people watching it: the Engine, a goroutine that
// drives one train.Trainer, takes commands from the terminal lab (settings coalesced, applied
// at the next step boundary) and sends out immutable Snapshots, at most MaxHz a second per
// subscriber, never blocking on a slow one; a History of the series the lab draws, bounded
// over unbounded runs; a spool that keeps an interactive session's run so it can be written
// out; and Headless, the loop behind `sharpflat run`.
//
// The training itself is in lab/train, the run-directory files in lab/rundir, the
// experiments in lab/experiment.
//
// Package lab imports lab/train, lab/rundir, nn and linalg; it must not import bubbletea or
// any other terminal package, nor lab/experiment.
package lab
