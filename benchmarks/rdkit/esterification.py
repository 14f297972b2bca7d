"""Fischer esterification: acetic acid + ethanol -> ethyl acetate + water, as a reaction scheme."""
from rdkit.Chem import Draw, rdChemReactions

rxn = rdChemReactions.ReactionFromSmarts("CC(=O)O.OCC>>CC(=O)OCC.O", useSmiles=True)
img = Draw.ReactionToImage(rxn, subImgSize=(250, 200))
img.save("esterification.png")
