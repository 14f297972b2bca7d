"""A series RLC circuit with a switch and the loop current marked."""
import schemdraw
import schemdraw.elements as elm

with schemdraw.Drawing() as d:
    elm.SourceV().up().label("$\\varepsilon$")
    elm.Switch().right().label("S")
    elm.Resistor().right().label("R")
    elm.Inductor().down().label("L")
    elm.Capacitor().left().label("C", loc="bottom")
    elm.Line().left()
    elm.LoopCurrent([d.elements[1], d.elements[3], d.elements[4], d.elements[0]], direction="cw").label("$i(t)$")
