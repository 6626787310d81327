#!/usr/bin/python3
"""bench/ab/points_map.py — same-run A/B of reading the points file mapped
(the program's default, RASTERPOOL_MAP_POINTS=1) against copied with pread
(RASTERPOOL_MAP_POINTS=0). The runs, medians and checks: bench/ab/env_ab.py.

Run: bench/ab/points_map.py RASTERPOOL RASTER POINTS [THREADS] [RUNS]
"""
import env_ab

env_ab.main("RASTERPOOL_MAP_POINTS", "read", {True: "mapped", False: "pread"})
