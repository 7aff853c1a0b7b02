//go:build !race

package mat

// raceEnabled reports a -race build, whose runtime allocates on its own.
const raceEnabled = false
