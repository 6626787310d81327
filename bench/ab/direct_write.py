#!/usr/bin/python3
"""bench/ab/direct_write.py — same-run A/B of writing the CSV output with
O_DIRECT (the default on local disks, io/direct_out.c; RASTERPOOL_DIRECT_WRITE=1)
against buffered writes into the page cache (RASTERPOOL_DIRECT_WRITE=0).
The runs, medians and checks: bench/ab/env_ab.py.

Run: bench/ab/direct_write.py RASTERPOOL RASTER POINTS [THREADS] [RUNS]
"""
import env_ab

env_ab.main("RASTERPOOL_DIRECT_WRITE", "write", {True: "direct", False: "buffered"})
