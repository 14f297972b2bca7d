import random

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

np.random.seed(11)
random.seed(11)
G = nx.erdos_renyi_graph(25, 0.15, seed=np.random.RandomState(11))
tree = nx.minimum_spanning_tree(G)
pos = nx.kamada_kawai_layout(G)
nx.draw(G, pos, node_color="lightgray", edge_color="lightgray", with_labels=True)
nx.draw_networkx_edges(tree, pos, edge_color="tab:green", width=2)
plt.title("A spanning tree of a random graph")
plt.show()
