// Package tui is the terminal lab: a bubbletea (v1) program that watches a lab.Engine train
// and steers it — the α slider between Dom-SGD, SGD and Bulk-SGD, η, momentum, the subspace
// size k, the refresh period T, recompute, checkpoints and rollback.
//
// The screen, from top to bottom:
//
//	header         preset, data, architecture, P, step, steps/s, state
//	optimizer bar  Dom ◀──●──┼──▶ Bulk slider for α, (w_dom, w_bulk), η, 2/η, β, k, T, basis age
//	charts         loss (log), sharpness λ₁ with 2/η, alignment χ, the top-k spectrum,
//	               the G/F split of the dominant eigenvalues, the event log
//	footer         key help (bubbles/help; full help on ?) and transient status messages
//
// Rendering is decoupled from training: the model reads coalesced snapshots (≤ lab.MaxHz a
// second) through a re-armed tea.Cmd and draws every chart from the snapshot's bounded
// history, so the engine never waits for the screen.
//
// Charts are drawn into a compact cell grid (one rune and one ink byte a cell) with ntcharts'
// braille, block-element and line runes, and rendered with one lipgloss call per run of
// equally styled cells. ntcharts' own canvas keeps a full lipgloss.Style in every cell
// (≈ 550 bytes, reallocated by Clear) and renders cell by cell (about 1 ms for 100×20 in
// true colour), which would make a 200×60 frame cost several milliseconds and a lot of
// garbage at 20 frames a second; the grid avoids both. ntcharts' charts also have traps this
// package sidesteps by fixing every range from the data it draws: the sparkline clamps
// negative values to 0 and its auto-range only grows, and the time-series chart rescales
// every stored point on each update and has a 1 s X resolution.
//
// There is no package-level mutable state: a Common value carries the size, the styles
// (made from the session's lipgloss.Renderer, so an SSH session can pass
// bubbletea.MakeRenderer(s)) and the keymap, and many models can run in one process.
//
// Package tui imports lab (the engine and its snapshots) and lab/train (settings, metrics,
// events); it must not import lab/experiment or lab/rundir, and nothing below it (lab, nn,
// linalg) may import a terminal package.
package tui
