"""An RC low-pass filter driven by a voltage source."""
import schemdraw
import schemdraw.elements as elm

with schemdraw.Drawing() as d:
    d.config(unit=3)
    elm.SourceSin().up().label("$V_{in}$")
    elm.Resistor().right().label(r"R = 1 k$\Omega$")
    elm.Dot()
    d.push()
    elm.Capacitor().down().label("C = 100 nF", loc="bottom")
    elm.Line().left()
    d.pop()
    elm.Line().right(d.unit)
    elm.Gap().down().label(["+", "$V_{out}$", "-"], loc="bottom")
    elm.Line().left(d.unit)
