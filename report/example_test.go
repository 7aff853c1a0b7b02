package report_test

import (
	"fmt"

	"github.com/flowlab/flowlab/report"
)

// Numbers in the report's tables are printed with four significant digits,
// integers in full.
func ExampleNum() {
	fmt.Println(report.Num(15.9843), report.Num(712), report.Num(0.0123456))
	// Output: 15.98 712 0.01235
}
