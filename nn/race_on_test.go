//go:build race

package nn

// raceEnabled reports a -race build, whose runtime allocates on its own.
const raceEnabled = true
