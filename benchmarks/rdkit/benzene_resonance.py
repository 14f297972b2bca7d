"""Benzene's two Kekule structures side by side with matplotlib, as a textbook figure would show them."""
import matplotlib.pyplot as plt
from rdkit import Chem
from rdkit.Chem import Draw

benzene = Chem.MolFromSmiles("c1ccccc1")
first = Chem.Mol(benzene)
Chem.Kekulize(first, clearAromaticFlags=True)
second = Chem.MolFromSmiles("C1=CC=CC=C1")
fig, axes = plt.subplots(1, 2, figsize=(6, 3))
for ax, mol, title in zip(axes, (first, second), ("Kekule structure I", "Kekule structure II")):
    ax.imshow(Draw.MolToImage(mol, size=(250, 250), kekulize=False))
    ax.set_title(title)
    ax.axis("off")
fig.suptitle("Resonance in benzene")
plt.savefig("benzene.png", bbox_inches="tight")
