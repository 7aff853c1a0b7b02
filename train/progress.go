package train

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// reporter shows training progress: a progress bar with loss and ETA on a
// terminal, plain periodic lines otherwise.
type reporter interface {
	update(step int, loss, etaLoss, lr float64)
	finish()
}

// newReporter returns a reporter writing to w (nil: none). first is the step
// the run starts from (non-zero on resume), total the final step.
func newReporter(w io.Writer, first, total int, hasEta bool) reporter {
	if w == nil {
		return nopReporter{}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("train"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("steps"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowDescriptionAtLineEnd(),
		)
		_ = bar.Set(first)
		return &barReporter{bar: bar, hasEta: hasEta, w: w}
	}
	every := max((total-first)/20, 1)
	return &lineReporter{w: w, first: first, total: total, every: every, hasEta: hasEta, start: time.Now()}
}

type nopReporter struct{}

func (nopReporter) update(int, float64, float64, float64) {}
func (nopReporter) finish()                               {}

type barReporter struct {
	bar    *progressbar.ProgressBar
	w      io.Writer
	hasEta bool
	last   time.Time
}

func (b *barReporter) update(step int, loss, etaLoss, lr float64) {
	if now := time.Now(); now.Sub(b.last) >= 200*time.Millisecond {
		b.last = now
		if b.hasEta {
			b.bar.Describe(fmt.Sprintf("loss %.4g η-loss %.4g lr %.3g", loss, etaLoss, lr))
		} else {
			b.bar.Describe(fmt.Sprintf("loss %.4g lr %.3g", loss, lr))
		}
	}
	_ = b.bar.Set(step)
}

func (b *barReporter) finish() {
	_ = b.bar.Finish()
	fmt.Fprintln(b.w)
}

// lineReporter prints one line every `every` steps and at the last step,
// with the mean losses of the steps since the previous line.
type lineReporter struct {
	w                   io.Writer
	first, total, every int
	hasEta              bool
	start               time.Time
	sum, etaSum         float64
	count               int
}

func (l *lineReporter) update(step int, loss, etaLoss, lr float64) {
	l.sum += loss
	l.etaSum += etaLoss
	l.count++
	if (step-l.first)%l.every != 0 && step != l.total {
		return
	}
	loss, etaLoss = l.sum/float64(l.count), l.etaSum/float64(l.count)
	l.sum, l.etaSum, l.count = 0, 0, 0
	el := time.Since(l.start)
	eta := time.Duration(0)
	if done := step - l.first; done > 0 {
		eta = time.Duration(float64(el) / float64(done) * float64(l.total-step))
	}
	if l.hasEta {
		fmt.Fprintf(l.w, "step %d/%d loss %.5g eta_loss %.5g lr %.3g elapsed %s eta %s\n",
			step, l.total, loss, etaLoss, lr, el.Round(time.Second), eta.Round(time.Second))
	} else {
		fmt.Fprintf(l.w, "step %d/%d loss %.5g lr %.3g elapsed %s eta %s\n",
			step, l.total, loss, lr, el.Round(time.Second), eta.Round(time.Second))
	}
}

func (l *lineReporter) finish() {}
