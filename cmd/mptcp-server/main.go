package main

import (
	"context"
	"io"

	"github.com/mpxdp/mpxdp/internal/cli"
)

func main() {
	cli.Main(func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return run(ctx, args, stdout, stderr, nil)
	})
}
