package main

import "github.com/mpxdp/mpxdp/internal/cli"

func main() { cli.Main(run) }
