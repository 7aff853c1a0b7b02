package mat

import (
	"fmt"
	"sync"
	"testing"
)

// TestForChunks checks that ForChunks calls f on ranges that cover [0, n)
// exactly once, each either [0, n) whole or a chunk: starting at a multiple
// of chunk and at most chunk long.
func TestForChunks(t *testing.T) {
	for _, c := range []struct{ threads, n, chunk int }{
		{1, 10, 3}, {2, 10, 3}, {3, 100, 7}, {4, 64, 16}, {2, 5, 100}, {0, 1 << 16, 1 << 14}, {2, 0, 4},
	} {
		t.Run(fmt.Sprintf("t%d_n%d_c%d", c.threads, c.n, c.chunk), func(t *testing.T) {
			var mu sync.Mutex
			seen := make([]int, c.n)
			Threads(c.threads).ForChunks(c.n, c.chunk, func(lo, hi int) {
				whole := lo == 0 && hi == c.n
				if !whole && (lo%c.chunk != 0 || hi-lo > c.chunk || hi <= lo || hi > c.n) {
					t.Errorf("chunk [%d, %d)", lo, hi)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, s := range seen {
				if s != 1 {
					t.Fatalf("element %d covered %d times", i, s)
				}
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("ForChunks with chunk 0 did not panic")
		}
	}()
	Threads(2).ForChunks(10, 0, func(lo, hi int) {})
}
