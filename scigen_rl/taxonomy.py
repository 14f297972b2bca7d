"""The 25 image types of SciGenBench (5 subjects), each with what a figure of that type shows.

The names are SciGenBench's own labels (``Subject - Type``; a test checks that they are exactly the
labels of the shipped benchmark). The definitions are the project's words, written for a model that
has to choose one type per problem: what the figure draws, and where the type ends. ``Universal``
holds what any subject uses: charts, tables, graphs and flows, experimental set-ups.
"""

from __future__ import annotations

IMAGE_TYPES: dict[str, str] = {
    "Math - Plane Geometric": "2-D figures of synthetic geometry: triangles, circles, polygons, angles, "
    "lengths, constructions, without a coordinate system.",
    "Math - Solid Geometric": "3-D solids and their sections: prisms, pyramids, cylinders, cones, spheres, "
    "nets, cross-sections, views.",
    "Math - Analytic Geometry": "curves and shapes in a coordinate plane or space: lines, conics, loci, "
    "vectors with coordinates, regions bounded by graphs.",
    "Math - Set & Probability": "Venn diagrams, sample spaces, probability trees, urns, dice and card "
    "set-ups, counting arrangements, distributions of outcomes.",
    "Physics - Mechanical": "bodies and the forces on them: inclines, pulleys, springs, levers, "
    "collisions, projectiles, rotating objects, free-body diagrams.",
    "Physics - Circuit": "electric circuits as schematics: sources, resistors, capacitors, inductors, "
    "switches, meters, and how they are wired.",
    "Physics - Field Diagram": "electric, magnetic or gravitational fields and their sources: charges, "
    "currents, field lines, equipotentials, particles moving in a field.",
    "Physics - Optical Ray": "light paths: lenses, mirrors, prisms, refraction at interfaces, "
    "interference and diffraction set-ups, image formation.",
    "Physics - Waveform": "waves and oscillations drawn over time or space: sinusoids, pulses, standing "
    "waves, signals, superposition.",
    "Physics - Thermodynamic": "states and processes of matter and heat: p-V and T-S diagrams, cycles, "
    "gas containers and pistons, heat flow.",
    "Physics - Astronomical": "celestial bodies and their motion: orbits, planets and moons, stars, "
    "galaxies, distances and scales in space.",
    "Chemistry - Molecular Structure": "molecules drawn by their atoms and bonds: structural and skeletal "
    "formulas, stereochemistry, functional groups, Lewis structures.",
    "Chemistry - Reaction Scheme": "reactions written as schemes: reactants, arrows, conditions, products, "
    "mechanisms with electron-pushing arrows, multi-step syntheses.",
    "Chemistry - Electron Config": "electron arrangements of atoms and ions: shells, orbital boxes with "
    "arrows, configuration notation, energy-level filling.",
    "Chemistry - Orbital / Quantum": "orbitals and quantum states: orbital shapes, molecular orbital "
    "diagrams, energy levels and transitions, wavefunctions.",
    "Chemistry - Crystal Structure": "solids by their lattice: unit cells, packing, ionic crystals, "
    "coordination, lattice parameters.",
    "Chemistry - Spectra": "spectra to read: IR, NMR, mass or UV-vis plots with their peaks and shifts.",
    "Biology - Cell Diagram": "cells and their parts: organelles, membranes, cell division stages, "
    "tissues as drawn in a textbook.",
    "Biology - Genetics": "inheritance and genes: Punnett squares, pedigrees, chromosomes, crosses, gene "
    "maps.",
    "Biology - Molecular Process": "processes inside cells at the molecular level: replication, "
    "transcription, translation, signalling and metabolic pathways, enzymes.",
    "Biology - Ecological": "organisms and their environment: food chains and webs, population and "
    "energy pyramids, cycles of matter, habitats.",
    "Universal - Plot & Chart": "data and functions drawn on axes: line, bar, scatter and pie charts, "
    "function graphs, measured curves, in any subject.",
    "Universal - Table / Grid": "information laid out in rows and columns: data tables, grids, matrices, "
    "schedules, boards.",
    "Universal - Graph & Flow": "nodes and connections: networks, trees, flowcharts, state diagrams, "
    "process and decision flows.",
    "Universal - Exp. Setup": "laboratory or measurement set-ups: apparatus, instruments, how they are "
    "arranged and connected for an experiment.",
}
"""``Subject - Type`` -> what a figure of the type shows."""


def type_list() -> str:
    """The types as a bulleted list with their definitions, for a prompt.

    >>> type_list().splitlines()[0]
    '- Math - Plane Geometric: 2-D figures of synthetic geometry: triangles, circles, polygons, angles, lengths, constructions, without a coordinate system.'
    """
    return "\n".join(f"- {name}: {definition}" for name, definition in IMAGE_TYPES.items())
