"""Caffeine drawn with MolDraw2DCairo, its imidazole ring highlighted, bytes written by hand."""
from rdkit import Chem
from rdkit.Chem.Draw import rdMolDraw2D

caffeine = Chem.MolFromSmiles("Cn1cnc2c1c(=O)n(C)c(=O)n2C")
ring = next(r for r in caffeine.GetRingInfo().AtomRings() if len(r) == 5)
drawer = rdMolDraw2D.MolDraw2DCairo(450, 350)
drawer.drawOptions().addStereoAnnotation = True
drawer.DrawMolecule(caffeine, highlightAtoms=list(ring), legend="caffeine")
drawer.FinishDrawing()
with open("caffeine.png", "wb") as f:
    f.write(drawer.GetDrawingText())
