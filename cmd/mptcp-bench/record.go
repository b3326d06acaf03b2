package main

import (
	"context"
	"fmt"
	"io"
)

func record(ctx context.Context, c config, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "todo")
	return exitUsage
}
