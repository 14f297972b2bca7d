import networkx as nx
import numpy as np
import matplotlib.pyplot as plt

G = nx.karate_club_graph()
pos = nx.spring_layout(G, seed=np.random.RandomState(3))
centrality = nx.betweenness_centrality(G)
sizes = [3000 * centrality[n] + 80 for n in G.nodes]
colors = ["tab:red" if G.nodes[n]["club"] == "Mr. Hi" else "tab:blue" for n in G.nodes]

plt.figure(figsize=(7, 6))
nx.draw_networkx_edges(G, pos, alpha=0.3)
nx.draw_networkx_nodes(G, pos, node_size=sizes, node_color=colors)
nx.draw_networkx_labels(G, pos, font_size=8)
plt.title("Karate club: node size = betweenness")
plt.axis("off")
plt.savefig("graph.png")
