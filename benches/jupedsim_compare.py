#!/usr/bin/env python3
"""Run the crowd bench cases in JuPedSim for comparison with `cargo bench --bench crowd`.

Cases (matching benches/crowd.rs and the `bottleneck` validation case):
  * open plaza, 1 P/m^2, 2:1 rectangle, v0 ~ U(1.0, 1.5) m/s, walking east: agent-steps/s
  * bottleneck: 150 people in an 8 m x 8 m room, 1.0 and 1.2 m door 0.4 m deep: flow
    between the 10th and 90th percentile of exit times (P/s and P/(m s))

Collision-free speed model, dt = 0.01 s (JuPedSim's default), r = 0.15 m as in crucible's
egress set. Skips cleanly (exit code 0) when jupedsim or shapely is not installed.

    python3 benches/jupedsim_compare.py [--agents 10000] [--steps 300]
"""

import argparse
import math
import random
import sys
import time

try:
    import jupedsim as jps
    import shapely
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"jupedsim_compare: skipped ({e.name} is not installed; pip install jupedsim)")
    sys.exit(0)


def plaza(n, steps, seed=1):
    h = math.ceil(math.sqrt(n / 2.0))
    w = 2 * h
    area = shapely.Polygon([(0, 0), (w + 4, 0), (w + 4, h), (0, h)])
    sim = jps.Simulation(
        model=jps.CollisionFreeSpeedModel(), geometry=area, dt=0.01
    )
    exit_id = sim.add_exit_stage([(w + 3, 0), (w + 4, 0), (w + 4, h), (w + 3, h)])
    journey = sim.add_journey(jps.JourneyDescription([exit_id]))
    rng = random.Random(seed)
    s = math.sqrt((w - 0.6) * (h - 0.6) / n)
    per_row = int((w - 0.6) / s)
    rows = -(-n // per_row)
    sy = (h - 0.6) / rows
    for k in range(n):
        i, j = k % per_row, k // per_row
        jit = max(min(s, sy) - 0.3, 0.0) * 0.4
        x = 0.3 + (i + 0.5) * s + rng.uniform(-jit, jit)
        y = 0.3 + (j + 0.5) * sy + rng.uniform(-jit, jit)
        sim.add_agent(
            jps.CollisionFreeSpeedModelAgentParameters(
                journey_id=journey,
                stage_id=exit_id,
                position=(x, y),
                radius=0.15,
                desired_speed=rng.uniform(1.0, 1.5),
            )
        )
    t = time.perf_counter()
    for _ in range(steps):
        sim.iterate()
    wall = time.perf_counter() - t
    return n * steps / wall, wall


def door_flow(b, n=150, seed=11):
    room = shapely.Polygon([(0, 0), (8, 0), (8, 8), (0, 8)])
    door = shapely.box(7.99, 4 - b / 2, 8.4, 4 + b / 2)
    out = shapely.box(8.39, 0, 12.4, 8)
    geo = shapely.union_all([room, door, out])
    sim = jps.Simulation(model=jps.CollisionFreeSpeedModel(), geometry=geo, dt=0.01)
    exit_id = sim.add_exit_stage([(10.4, 0), (12.4, 0), (12.4, 8), (10.4, 8)])
    journey = sim.add_journey(jps.JourneyDescription([exit_id]))
    pos = jps.distribute_by_number(
        polygon=shapely.box(0, 0, 7, 8),
        number_of_agents=n,
        distance_to_agents=0.3,
        distance_to_polygon=0.15,
        seed=seed,
    )
    for p in pos:
        sim.add_agent(
            jps.CollisionFreeSpeedModelAgentParameters(
                journey_id=journey,
                stage_id=exit_id,
                position=p,
                radius=0.15,
                desired_speed=1.34,
            )
        )
    times = []
    left = n
    while sim.agent_count() > 0 and sim.elapsed_time() < 600:
        sim.iterate()
        now = sim.agent_count()
        times.extend([sim.elapsed_time()] * (left - now))
        left = now
    if len(times) < 10:
        return 0.0, len(times) / n
    i10, i90 = len(times) // 10, len(times) * 9 // 10
    return (i90 - i10) / (times[i90] - times[i10]), len(times) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args()
    print(f"jupedsim {jps.__version__}")
    rate, wall = plaza(a.agents, a.steps)
    print(f"plaza n={a.agents}: {rate:,.0f} agent-steps/s ({a.steps} steps in {wall:.1f} s)")
    for b in (1.0, 1.2):
        flow, out = door_flow(b)
        print(f"bottleneck b={b} m: J = {flow:.2f} P/s, J/b = {flow / b:.2f} P/(m s), out {out:.0%}")


if __name__ == "__main__":
    main()
