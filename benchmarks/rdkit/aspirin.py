"""Aspirin (acetylsalicylic acid), with atom indices, saved as a PNG."""
from rdkit import Chem
from rdkit.Chem import Draw

aspirin = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
options = Draw.MolDrawOptions()
options.addAtomIndices = True
img = Draw.MolToImage(aspirin, size=(400, 350), legend="aspirin, C9H8O4", options=options)
img.save("aspirin.png")
