"""Four amino acids in a grid with their names and molar masses."""
from rdkit import Chem
from rdkit.Chem import Descriptors, Draw

smiles = {
    "glycine": "NCC(=O)O",
    "alanine": "C[C@H](N)C(=O)O",
    "serine": "N[C@@H](CO)C(=O)O",
    "phenylalanine": "N[C@@H](Cc1ccccc1)C(=O)O",
}
mols = [Chem.MolFromSmiles(s) for s in smiles.values()]
legends = [f"{name} ({Descriptors.MolWt(m):.1f} g/mol)" for name, m in zip(smiles, mols)]
grid = Draw.MolsToGridImage(mols, molsPerRow=2, subImgSize=(300, 250), legends=legends)
grid.save("amino_acids.png")
