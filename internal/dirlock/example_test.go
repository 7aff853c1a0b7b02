package dirlock_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/flowlab/flowlab/internal/dirlock"
)

func Example() {
	dir, _ := os.MkdirTemp("", "run")
	defer os.RemoveAll(dir)
	unlock, err := dirlock.Lock(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unlock()
	// A second writer of the same folder is refused.
	_, err = dirlock.Lock(dir)
	fmt.Println(errors.Is(err, dirlock.ErrLocked))
	// Output: true
}
